namespace Smc.Core.Domain;

/// <summary>
/// A wave (issue 19): jobs an operator moves together. Its actions (start, stop, cutover, delete, pause, resume) fan
/// out to its jobs with one result each; its progress, lag and errors roll up; its rounds may be held to a daily
/// window and capped at <see cref="MaxConcurrentRounds"/> at once — a round past the cap waits in <see cref="Queue"/>
/// until a slot frees. A job belongs to at most one wave (<see cref="ReplicationJob.WaveId"/>).
/// </summary>
public sealed class Wave
{
    public required string WaveId { get; init; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    public Dictionary<string, string> Tags { get; set; } = [];

    /// <summary>Rounds of the wave's jobs that may run at once (1–1000); null: no cap.</summary>
    public int? MaxConcurrentRounds { get; set; }

    /// <summary>When rounds of the wave's jobs may start (UTC, each day); null: any time. A round under way is not stopped at its end.</summary>
    public DailyWindow? Window { get; set; }

    /// <summary>Upload limits by time of day for the wave's jobs, under a job's own schedule (<see cref="Domain.BandwidthSchedule"/>).</summary>
    public List<BandwidthWindow>? BandwidthSchedule { get; set; }

    /// <summary>The rounds running under the cap now (a job's slot is taken before its round is issued, given back when it ends).</summary>
    public List<WaveSlot> Slots { get; set; } = [];

    /// <summary>Jobs whose round waits for a slot or the window, first come first.</summary>
    public List<string> Queue { get; set; } = [];

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A running round's hold on one of its wave's slots.</summary>
public sealed record WaveSlot(string JobId, DateTimeOffset Since);

/// <summary>A daily window, <c>HH:mm</c> UTC; a start after the end spans midnight (<c>22:00</c>–<c>06:00</c>).</summary>
public sealed record DailyWindow(string Start, string End)
{
    public static bool TryParse(string? text, out TimeSpan time) =>
        TimeSpan.TryParseExact(text, @"hh\:mm", System.Globalization.CultureInfo.InvariantCulture, out time);

    /// <summary>Whether <paramref name="now"/> is inside, and if not, when the window opens next.</summary>
    public (bool Open, DateTimeOffset NextOpen) At(DateTimeOffset now)
    {
        _ = TryParse(Start, out TimeSpan start);
        _ = TryParse(End, out TimeSpan end);
        TimeSpan t = now.UtcDateTime.TimeOfDay;
        bool open = start <= end ? t >= start && t < end : t >= start || t < end;
        DateTimeOffset today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero) + start;
        return (open, today > now ? today : today.AddDays(1));
    }
}
