using Microsoft.Extensions.Options;
using Smc.Core.Options;
using Smc.Core.Ports;

namespace Smc.Functions;

/// <summary>The migration engine over the invocation's Durable client (see <see cref="AmbientDurableClient"/>).</summary>
internal sealed class FunctionsMigrationEngine(IOptions<ControlPlaneOptions> options) : IMigrationEngine
{
    private DurableMigrationEngine Engine => new(AmbientDurableClient.Client, options);

    public Task StartAsync(string jobId, DateTimeOffset? notBefore = null, CancellationToken cancellationToken = default) => Engine.StartAsync(jobId, notBefore, cancellationToken);

    public Task RaiseEventAsync(string jobId, string eventName, object? payload = null, CancellationToken cancellationToken = default) =>
        Engine.RaiseEventAsync(jobId, eventName, payload, cancellationToken);

    public Task TerminateAsync(string jobId, string reason, CancellationToken cancellationToken = default) =>
        Engine.TerminateAsync(jobId, reason, cancellationToken);
}
