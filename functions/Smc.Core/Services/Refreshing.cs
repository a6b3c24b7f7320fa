namespace Smc.Core.Services;

/// <summary>The ages that decide what <see cref="Refreshing{T}"/> (and so <see cref="RecordView{T}"/>) serves.</summary>
public static class RefreshTimes
{
    /// <summary>How old a value may be before a caller sets off a read in the background.</summary>
    public static readonly TimeSpan Fresh = TimeSpan.FromSeconds(1);

    /// <summary>How old a value may be and still be served while a new read is under way.</summary>
    public static readonly TimeSpan MaxStale = TimeSpan.FromSeconds(10);
}

/// <summary>
/// A value read from storage for what operators poll, served from memory. A caller that finds it older than
/// <see cref="RefreshTimes.Fresh"/> sets off one read in the background and is served what there is; one older than
/// <see cref="RefreshTimes.MaxStale"/>, or none, is not served: the caller waits for the read. One read at a time, started on the
/// caller's thread outside the lock; its failure reaches only those who wait for it, and the next caller tries again.
/// </summary>
public sealed class Refreshing<T>(Func<Task<T>> read, TimeProvider clock)
{
    private readonly Lock _lock = new();
    private (T Value, DateTimeOffset ReadAt)? _last;
    private Task<T>? _reading;

    /// <summary>Whether a read is under way or the last one may still be served (else the next caller waits for a read).</summary>
    public bool Keeps
    {
        get
        {
            lock (_lock)
            {
                return _reading is { IsCompleted: false } || (_last is { } last && clock.GetUtcNow() - last.ReadAt <= RefreshTimes.MaxStale);
            }
        }
    }

    /// <summary>The read under way or the last one (for tests: a read set off in the background has ended when it has).</summary>
    internal Task Reading
    {
        get
        {
            lock (_lock)
            {
                return _reading ?? Task.CompletedTask;
            }
        }
    }

    public async Task<T> GetAsync(CancellationToken cancellationToken = default)
    {
        Task<T>? reading = null;
        Task<Task<T>>? start = null;
        (T Value, DateTimeOffset ReadAt)? served = null;
        lock (_lock)
        {
            if (_last is { } last && clock.GetUtcNow() - last.ReadAt <= RefreshTimes.MaxStale)
            {
                served = last;
                if (clock.GetUtcNow() - last.ReadAt > RefreshTimes.Fresh)
                {
                    _ = Begin(out start);
                }
            }
            else
            {
                reading = Begin(out start);
            }
        }

        start?.RunSynchronously(); // the read begins on this thread, outside the lock, up to its first wait
        return served is { } value ? value.Value : await reading!.WaitAsync(cancellationToken);
    }

    /// <summary>The read under way, or a new one made here and started by the caller once it has let go of the lock.</summary>
    private Task<T> Begin(out Task<Task<T>>? start)
    {
        start = null;
        if (_reading is { IsCompleted: false })
        {
            return _reading;
        }

        start = new Task<Task<T>>(ReadAsync);
        _reading = start.Unwrap();
        _ = _reading.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return _reading;
    }

    private async Task<T> ReadAsync()
    {
        DateTimeOffset started = clock.GetUtcNow();
        T value = await read();
        lock (_lock)
        {
            _last = (value, started);
        }

        return value;
    }
}
