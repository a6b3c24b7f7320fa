namespace Smc.Core.Ports;

/// <summary>Starts and signals job orchestrations (instance id = job id). Backed by a Durable Task client.</summary>
public interface IMigrationEngine
{
    Task StartAsync(string jobId, CancellationToken cancellationToken = default);

    Task RaiseEventAsync(string jobId, string eventName, object? payload = null, CancellationToken cancellationToken = default);

    Task TerminateAsync(string jobId, string reason, CancellationToken cancellationToken = default);
}
