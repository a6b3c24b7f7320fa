using Smc.Agent.Control;
using Smc.Wire.Agent;

namespace Smc.Agent.Replication;

/// <summary>
/// The fingerprints an incremental round compares with: the base round's, kept by the agent (<see cref="FingerprintStore"/>)
/// or fetched from the control plane when the agent's copy is gone or of another round.
/// </summary>
internal sealed class BaselineStore(AgentConfig config, ControlPlaneClient client, AgentCommand command, string jobId, string stateDir, Action<string> log)
{
    /// <summary>The agent's fingerprint store of the job (the newest committed round's).</summary>
    public string FingerprintsFile => Path.Combine(stateDir, $"{jobId}.fingerprints");

    /// <summary>
    /// What this round compares with: the base round's fingerprints, from the agent's own store or, when that is gone
    /// (reinstall, new state disk), from the control plane (kept as the store from then on). Null for a full round.
    /// </summary>
    public async Task<FingerprintStore?> OpenAsync(CancellationToken cancellationToken)
    {
        if (command.BaseRound is not int baseRound)
        {
            return null;
        }

        File.Delete(Path.Combine(stateDir, $"{jobId}.fingerprints.json")); // the whole-JSON copy earlier agents kept
        FingerprintStore? known = null;
        try
        {
            known = FingerprintStore.Open(FingerprintsFile);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            log($"local fingerprints unreadable ({e.Message}); asking the control plane");
        }

        if (known is not null && (known.Header.Round != baseRound || known.Header.JobId != jobId || known.Header.ChunkSize != command.ChunkSize))
        {
            known.Dispose();
            known = null;
        }

        if (known is null)
        {
            log($"round {command.Round}: fingerprints of round {baseRound} not kept here; fetching them from the control plane");
            string download = FingerprintsFile + ".download";
            await ControlPlaneClient.ShortRetry.ExecuteAsync(async ct => await client.DownloadFingerprintsAsync(config.Credential, jobId, baseRound, download, ct), cancellationToken);
            try
            {
                FingerprintsDocument.Head head = FingerprintsDocument.ReadHead(download);
                FingerprintStore.Write(FingerprintsFile, head.JobId!, head.Round!.Value, head.ChunkSize, head.DiskSizes!,
                    add => FingerprintsDocument.ReadChunks(download, c => add(c.Disk, c.Offset, c.Length, c.Fingerprint)));
            }
            catch (InvalidDataException e)
            {
                throw new AgentException(ExitCodes.Failure, $"The control plane's fingerprints of round {baseRound} can't be read ({e.Message}).", e);
            }
            finally
            {
                File.Delete(download);
            }

            known = FingerprintStore.Open(FingerprintsFile)!;
        }

        return known;
    }

    /// <summary>The committed round's fingerprints, streamed from its journal into the agent's store.</summary>
    public void Save(List<DiskPlan> plans, RoundJournal journal) =>
        FingerprintStore.Write(FingerprintsFile, jobId, command.Round, command.ChunkSize, [.. plans.Select(p => p.SizeBytes)],
            journal.Entries().Select(c => (c.Disk, c.Offset, c.Length, c.Fingerprint)));
}
