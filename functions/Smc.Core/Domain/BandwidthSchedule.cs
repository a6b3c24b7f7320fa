using Smc.Core.Errors;

namespace Smc.Core.Domain;

/// <summary>A time of day with its own upload limit: e.g. 08:00–18:00 UTC at 2048 KB/s (0 = unlimited).</summary>
public sealed record BandwidthWindow(string Start, string End, int LimitKBps);

/// <summary>
/// Bandwidth as operators need it (issue 19): a job's limit is its schedule's window that holds now, else its wave's,
/// else its <see cref="ReplicationParameters.BandwidthLimitKBps"/>. The control plane decides it — when it issues a
/// round and on every progress report of a running round (every 2 s), whose answer carries it — so a schedule's edge
/// and a PATCH reach a running round within seconds, and the agent keeps no clock of its own for it.
/// </summary>
public static class BandwidthSchedule
{
    public const int MaxWindows = 24;
    public const int MaxLimitKBps = 10_000_000;

    public static int Effective(ReplicationJob job, Wave? wave, DateTimeOffset now) =>
        Match(job.ReplicationParameters.BandwidthSchedule, now)
        ?? Match(wave?.BandwidthSchedule, now)
        ?? job.ReplicationParameters.BandwidthLimitKBps;

    /// <summary>The schedule as given, checked; throws a 400 with <paramref name="code"/>.</summary>
    public static List<BandwidthWindow>? Check(List<BandwidthWindow>? schedule, string code, string field)
    {
        if (schedule is null)
        {
            return null;
        }

        if (schedule.Count > MaxWindows)
        {
            throw SmcException.BadRequest(code, $"{field} holds at most {MaxWindows} windows.");
        }

        foreach (BandwidthWindow w in schedule)
        {
            if (w is null || !DailyWindow.TryParse(w.Start, out TimeSpan s) || !DailyWindow.TryParse(w.End, out TimeSpan e) || s == e || w.LimitKBps is < 0 or > MaxLimitKBps)
            {
                throw SmcException.BadRequest(code, $"{field}: each window needs start and end as HH:mm UTC (not equal; a start after the end spans midnight) and limitKBps 0 (unlimited)–{MaxLimitKBps}.");
            }
        }

        return schedule;
    }

    private static int? Match(List<BandwidthWindow>? schedule, DateTimeOffset now) =>
        schedule?.FirstOrDefault(w => new DailyWindow(w.Start, w.End).At(now).Open)?.LimitKBps;
}
