namespace Smc.Core.Api;

/// <summary>The answer to a job creation; <see cref="Replayed"/> is true when a client token matched an earlier call.</summary>
public sealed record CreatedJob(string JobId, bool Replayed);
