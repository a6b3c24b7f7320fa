using Smc.Core.Domain;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>A round's <see cref="CloudExport"/> on its job's record: read it, change it under the record's ETag.</summary>
public sealed class CloudExportRecords(IRecordStore<ReplicationJob> jobs, TimeProvider clock)
{
    public async Task<CloudExport> ExportOfAsync(string jobId, int round, CancellationToken cancellationToken) =>
        (await jobs.GetAsync(jobId, cancellationToken))?.Value.ReplicationJobRuns.First(r => r.Round == round).Export
            ?? throw new InvalidOperationException($"Round {round} of {jobId} has no export.");

    /// <summary>Applies <paramref name="change"/> to the round's export (nothing when the round has none).</summary>
    public async Task UpdateExportAsync(string jobId, int round, Action<CloudExport> change, CancellationToken cancellationToken) =>
        await jobs.UpdateAsync(jobId, j =>
        {
            if (j.ReplicationJobRuns.FirstOrDefault(r => r.Round == round)?.Export is not { } export)
            {
                return false;
            }

            change(export);
            j.UpdatedAt = clock.GetUtcNow();
            return true;
        }, cancellationToken);
}
