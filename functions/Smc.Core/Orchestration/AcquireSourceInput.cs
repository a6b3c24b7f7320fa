namespace Smc.Core.Orchestration;

public sealed record AcquireSourceInput(string JobId);
