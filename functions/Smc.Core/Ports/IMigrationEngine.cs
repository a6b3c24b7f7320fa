namespace Smc.Core.Ports;

/// <summary>Starts and signals job orchestrations (instance id = job id). Backed by a Durable Task client.</summary>
public interface IMigrationEngine
{
    /// <param name="notBefore">The first round waits until then (the job's scheduledStartTime); null starts at once.</param>
    Task StartAsync(string jobId, DateTimeOffset? notBefore = null, CancellationToken cancellationToken = default);

    Task RaiseEventAsync(string jobId, string eventName, object? payload = null, CancellationToken cancellationToken = default);

    Task TerminateAsync(string jobId, string reason, CancellationToken cancellationToken = default);
}
