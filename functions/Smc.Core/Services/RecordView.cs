using Smc.Core.Ports;

namespace Smc.Core.Services;

/// <summary>
/// One host's read model of one kind of record, for what operators poll: the API's lists and the overview. A list used
/// to read every record from storage on every call — under a fleet's load, a queue behind the agents' uploads in the one
/// storage account. The view serves the last full read from memory instead, with this host's own writes applied as they
/// happen (so a host's answers include what it just did), and reads storage again, in the background, when a caller
/// finds the copy older than <see cref="RefreshTimes.Fresh"/>: records another host wrote show up about a second after they are
/// polled for. A copy older than <see cref="RefreshTimes.MaxStale"/> (nobody polled) is not served: the caller waits for a read.
/// Anything that decides — housekeeping, the steps, point reads by id — reads the store itself, never the view.
/// </summary>
/// <remarks>
/// The view's records are shared between callers and must not be changed; a caller that fills in a computed field
/// copies the record first. Writes are copied into the view (<paramref name="copy"/>: the store's own serialization
/// round trip), so a caller that keeps changing its object after writing it can't change the view.
/// </remarks>
public sealed class RecordView<T>
    where T : class
{
    private readonly IRecordStore<T> _store;
    private readonly Func<T, T> _copy;
    private readonly Refreshing<Stored<T>[]> _reads;
    private readonly Lock _lock = new();

    /// <summary>This host's writes (a sequence number each) not yet known to be in a completed read.</summary>
    private readonly Dictionary<string, (long Sequence, Stored<T>? Value)> _written = new(StringComparer.Ordinal);
    private Dictionary<string, Stored<T>>? _rows;
    private long _sequence;

    public RecordView(IRecordStore<T> store, Func<T, T> copy, TimeProvider clock)
    {
        _store = store;
        _copy = copy;
        _reads = new Refreshing<Stored<T>[]>(ReadAsync, clock);
        Store = new Noting(this);
    }

    /// <summary>The store that every service writes through: the records themselves, and each write noted in the view.</summary>
    public IRecordStore<T> Store { get; }

    /// <summary>The read under way or the last one (for tests).</summary>
    internal Task Reading => _reads.Reading;

    /// <summary>Every record, as this host last read or wrote it (in no particular order).</summary>
    public async Task<IReadOnlyList<Stored<T>>> ListAsync(CancellationToken cancellationToken = default)
    {
        Stored<T>[] read = await _reads.GetAsync(cancellationToken);
        lock (_lock)
        {
            return _rows is null ? read : [.. _rows.Values];
        }
    }

    private async Task<Stored<T>[]> ReadAsync()
    {
        long from;
        lock (_lock)
        {
            from = _sequence;
        }

        var rows = new Dictionary<string, Stored<T>>(StringComparer.Ordinal);
        await foreach (Stored<T> s in _store.ListAsync(CancellationToken.None))
        {
            rows[s.Id] = s;
        }

        lock (_lock)
        {
            // A write this host finished before the read began is in what was read; one after may not be, so it wins.
            foreach ((string id, (long sequence, Stored<T>? value)) in _written.ToList())
            {
                if (sequence <= from)
                {
                    _written.Remove(id);
                }
                else if (value is null)
                {
                    rows.Remove(id);
                }
                else
                {
                    rows[id] = value;
                }
            }

            _rows = rows;
            return [.. rows.Values];
        }
    }

    private void Wrote(string id, Stored<T>? value)
    {
        Stored<T>? kept = value is null ? null : value with { Value = _copy(value.Value) };
        lock (_lock)
        {
            if (!_reads.Keeps)
            {
                // No read under way and no copy that would be served: the next list reads storage, and sees this write.
                _rows = null;
                _written.Clear();
                return;
            }

            _written[id] = (++_sequence, kept);
            if (_rows is null)
            {
                return;
            }

            if (kept is null)
            {
                _rows.Remove(id);
            }
            else
            {
                _rows[id] = kept;
            }
        }
    }

    /// <summary>The store, with each write this host makes noted in the view once storage has taken it.</summary>
    private sealed class Noting(RecordView<T> view) : IRecordStore<T>
    {
        private IRecordStore<T> Inner => view._store;

        public Task<Stored<T>?> GetAsync(string id, CancellationToken cancellationToken = default) => Inner.GetAsync(id, cancellationToken);

        public async Task<Stored<T>> InsertAsync(string id, T value, CancellationToken cancellationToken = default)
        {
            Stored<T> stored = await Inner.InsertAsync(id, value, cancellationToken);
            view.Wrote(id, stored);
            return stored;
        }

        public async Task<Stored<T>> ReplaceAsync(string id, T value, string etag, CancellationToken cancellationToken = default)
        {
            Stored<T> stored = await Inner.ReplaceAsync(id, value, etag, cancellationToken);
            view.Wrote(id, stored);
            return stored;
        }

        public async Task<bool> DeleteAsync(string id, string? etag = null, CancellationToken cancellationToken = default)
        {
            bool deleted = await Inner.DeleteAsync(id, etag, cancellationToken);
            view.Wrote(id, null);
            return deleted;
        }

        public IAsyncEnumerable<Stored<T>> ListAsync(CancellationToken cancellationToken = default) => Inner.ListAsync(cancellationToken);

        public IAsyncEnumerable<Stored<T>> ListDueAsync(DateTimeOffset until, CancellationToken cancellationToken = default) =>
            Inner.ListDueAsync(until, cancellationToken);
    }
}
