namespace Smc.Core.Ports;

/// <summary>
/// A record that a periodic sweep must act on once a time comes (a job's <c>validTime</c>). The store keeps the time
/// beside the record, so <see cref="IRecordStore{T}.ListDueAsync"/> reads only the records that are due.
/// </summary>
public interface IDueRecord
{
    /// <summary>When the record is due; null when no sweep needs it (never again, or not yet known).</summary>
    DateTimeOffset? DueAt { get; }
}
