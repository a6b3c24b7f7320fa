using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Smc.Core.Domain;
using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>
/// The runs a job record no longer holds (<see cref="ReplicationJob.BoundRunHistory"/> keeps it bounded), one row each in
/// the key index (scope <c>runs:{jobId}</c>, key the round in 10 digits): the record stays small however many rounds run
/// and no run's history is lost. Writes are upserts, so archiving a run twice (before and after the update that drops
/// it) is harmless; the job's own copy of a run wins over an archived one.
/// </summary>
public sealed class RunArchive(IKeyIndex keys)
{
    /// <summary>Largest archived row: a table string holds 32 Ki characters; a run over it loses its per-volume consistency details.</summary>
    internal const int MaxRowChars = 30_000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Archives <paramref name="runs"/> of <paramref name="jobId"/> (idempotent).</summary>
    public async Task KeepAsync(string jobId, IEnumerable<ReplicationJobRun> runs, CancellationToken cancellationToken = default)
    {
        foreach (ReplicationJobRun run in runs)
        {
            string row = JsonSerializer.Serialize(run, Json);
            if (row.Length > MaxRowChars)
            {
                ReplicationJobRun slim = JsonSerializer.Deserialize<ReplicationJobRun>(row, Json)!;
                slim.Consistency?.Volumes.Clear();
                slim.Container?.Layers.RemoveAll(l => l.Round != run.Round);
                row = JsonSerializer.Serialize(slim, Json);
            }

            await keys.SetAsync(Scope(jobId), Key(run.Round), row, cancellationToken);
        }
    }

    /// <summary>The archived runs of a job, oldest first.</summary>
    public async IAsyncEnumerable<ReplicationJobRun> ListAsync(string jobId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (KeyValuePair<string, string> row in keys.ListAsync(Scope(jobId), cancellationToken))
        {
            if (JsonSerializer.Deserialize<ReplicationJobRun>(row.Value, Json) is { } run)
            {
                yield return run;
            }
        }
    }

    /// <summary>
    /// Every run of a job, newest first: the record's and the archived ones (the record's copy where both have a round).
    /// </summary>
    public async Task<List<ReplicationJobRun>> AllRunsAsync(ReplicationJob job, CancellationToken cancellationToken = default)
    {
        var runs = job.ReplicationJobRuns.ToDictionary(r => r.Round);
        await foreach (ReplicationJobRun archived in ListAsync(job.JobId, cancellationToken))
        {
            runs.TryAdd(archived.Round, archived);
        }

        return [.. runs.Values.OrderByDescending(r => r.Round)];
    }

    /// <summary>Removes a job's archive (its job is being deleted).</summary>
    public async Task DeleteAsync(string jobId, CancellationToken cancellationToken = default)
    {
        List<string> rows = [];
        await foreach (KeyValuePair<string, string> row in keys.ListAsync(Scope(jobId), cancellationToken))
        {
            rows.Add(row.Key);
        }

        foreach (string key in rows)
        {
            await keys.ReleaseAsync(Scope(jobId), key, cancellationToken: cancellationToken);
        }
    }

    private static string Scope(string jobId) => "runs:" + jobId;

    private static string Key(int round) => round.ToString("D10", CultureInfo.InvariantCulture);
}
