using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using Smc.Core.Ports;
using Smc.Core.Services;

namespace Smc.Core.Tests;

/// <summary>
/// The host's view that the lists and the overview read: this host's writes at once, another host's after a read in the
/// background, nothing lost to a write that races a read, and no copy older than its bound served. The store under it
/// counts its full reads, so "served from memory" is counted where the reads happen.
/// </summary>
public sealed class RecordViewTests
{
    private readonly MemoryStore _store = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordView<Item> _view;

    public RecordViewTests()
    {
        _view = new RecordView<Item>(_store, i => new Item(i.Name), _clock);
        _store.Put("a", "a1");
        _store.Put("b", "b1");
    }

    [Fact]
    public async Task ThisHostsWrites_AreListedAtOnce_WithoutReadingTheStoreAgain()
    {
        Assert.Equal(["a=a1", "b=b1"], await ListAsync());
        Assert.Equal(1, _store.Reads);

        Stored<Item> a = (await _view.Store.GetAsync("a"))!;
        await _view.Store.ReplaceAsync("a", new Item("a2"), a.ETag);
        await _view.Store.InsertAsync("c", new Item("c1"));
        Assert.True(await _view.Store.DeleteAsync("b"));

        Assert.Equal(["a=a2", "c=c1"], await ListAsync());
        Assert.Equal(1, _store.Reads);
    }

    [Fact]
    public async Task AnotherHostsWrite_IsListedOnceTheCopyIsOlderThanFresh_ReadInTheBackground()
    {
        await ListAsync();
        _store.Put("d", "d1"); // written by another host: not through this view

        Assert.Equal(["a=a1", "b=b1"], await ListAsync());
        _clock.Advance(RefreshTimes.Fresh + TimeSpan.FromMilliseconds(1));

        // The copy is served as it is, without waiting for the read it sets off (held at the gate meanwhile).
        _store.Gate = new TaskCompletionSource();
        Assert.Equal(["a=a1", "b=b1"], await ListAsync());
        await _store.HeldAtGate.Task;
        Assert.Equal(["a=a1", "b=b1"], await ListAsync()); // one read at a time: this call sets off no other
        Assert.Equal(2, _store.Reads);

        _store.Gate.SetResult();
        await _view.Reading;
        Assert.Equal(["a=a1", "b=b1", "d=d1"], await ListAsync());
        Assert.Equal(2, _store.Reads);
    }

    [Fact]
    public async Task WritesThatRaceARead_AreKept_AndADeleteIsNotUndoneByWhatTheReadSaw()
    {
        _store.Gate = new TaskCompletionSource();
        Task<List<string>> listing = ListAsync(); // the read yields "a", then waits at the gate before "b"
        await _store.HeldAtGate.Task;

        Stored<Item> a = (await _view.Store.GetAsync("a"))!;
        await _view.Store.ReplaceAsync("a", new Item("a2"), a.ETag);
        Assert.True(await _view.Store.DeleteAsync("b"));
        _store.Gate.SetResult();

        Assert.Equal(["a=a2"], await listing);
        Assert.Equal(["a=a2"], await ListAsync());
        Assert.Equal(1, _store.Reads);
    }

    [Fact]
    public async Task ACopyOlderThanMaxStale_IsNotServed_TheCallerWaitsForARead()
    {
        await ListAsync();
        _store.Put("e", "e1");
        _clock.Advance(RefreshTimes.MaxStale + TimeSpan.FromMilliseconds(1));

        Assert.Equal(["a=a1", "b=b1", "e=e1"], await ListAsync());
        Assert.Equal(2, _store.Reads);
    }

    [Fact]
    public async Task AnUnpolledCopy_IsDroppedAtTheNextWrite_AndTheNextListReadsTheStore()
    {
        await ListAsync();
        _clock.Advance(RefreshTimes.MaxStale + TimeSpan.FromSeconds(5));
        await _view.Store.InsertAsync("f", new Item("f1"));

        Assert.Equal(["a=a1", "b=b1", "f=f1"], await ListAsync());
        Assert.Equal(2, _store.Reads);
    }

    [Fact]
    public async Task AnObjectChangedAfterItWasWritten_DoesNotChangeTheView()
    {
        await ListAsync();
        var item = new Item("g1");
        await _view.Store.InsertAsync("g", item);
        item.Name = "changed by its writer";

        Assert.Equal(["a=a1", "b=b1", "g=g1"], await ListAsync());
    }

    [Fact]
    public async Task AFailedRead_ReachesTheCallerWhoWaits_AndNotTheOnesServedACopy()
    {
        _store.Fail = true;
        await Assert.ThrowsAsync<IOException>(() => ListAsync());

        _store.Fail = false;
        await ListAsync();
        _store.Fail = true;
        _clock.Advance(RefreshTimes.Fresh + TimeSpan.FromMilliseconds(1));
        Assert.Equal(["a=a1", "b=b1"], await ListAsync()); // served the copy; the read it set off failed
        Assert.Equal(3, _store.Reads);

        _store.Fail = false;
        _store.Put("h", "h1");
        await ListAsync(); // the copy is still old: another read
        Assert.Equal(["a=a1", "b=b1", "h=h1"], await ListAsync());
        Assert.Equal(4, _store.Reads);
    }

    private async Task<List<string>> ListAsync() =>
        [.. (await _view.ListAsync()).Select(s => $"{s.Id}={s.Value.Name}").Order(StringComparer.Ordinal)];

    public sealed class Item(string name)
    {
        public string Name { get; set; } = name;
    }

    /// <summary>A record store in memory that counts its full reads; a read can be held at a gate after its first record.</summary>
    private sealed class MemoryStore : IRecordStore<Item>
    {
        private readonly Dictionary<string, Stored<Item>> _rows = [];
        private int _etag;

        public int Reads { get; private set; }

        public bool Fail { get; set; }

        public TaskCompletionSource? Gate { get; set; }

        public TaskCompletionSource HeldAtGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Put(string id, string name)
        {
            lock (_rows)
            {
                _rows[id] = new Stored<Item>(id, new Item(name), $"e{++_etag}");
            }
        }

        public Task<Stored<Item>?> GetAsync(string id, CancellationToken cancellationToken = default)
        {
            lock (_rows)
            {
                return Task.FromResult(_rows.TryGetValue(id, out Stored<Item>? s) ? s with { Value = new Item(s.Value.Name) } : null);
            }
        }

        public Task<Stored<Item>> InsertAsync(string id, Item value, CancellationToken cancellationToken = default)
        {
            lock (_rows)
            {
                if (_rows.ContainsKey(id))
                {
                    throw new RecordConflictException(id, null!);
                }

                return Task.FromResult(_rows[id] = new Stored<Item>(id, value, $"e{++_etag}"));
            }
        }

        public Task<Stored<Item>> ReplaceAsync(string id, Item value, string etag, CancellationToken cancellationToken = default)
        {
            lock (_rows)
            {
                if (!_rows.TryGetValue(id, out Stored<Item>? s) || s.ETag != etag)
                {
                    throw new RecordConflictException(id, null!);
                }

                return Task.FromResult(_rows[id] = new Stored<Item>(id, value, $"e{++_etag}"));
            }
        }

        public Task<bool> DeleteAsync(string id, string? etag = null, CancellationToken cancellationToken = default)
        {
            lock (_rows)
            {
                return Task.FromResult(_rows.Remove(id));
            }
        }

        public async IAsyncEnumerable<Stored<Item>> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            Reads++;
            if (Fail)
            {
                throw new IOException("storage unavailable");
            }

            List<Stored<Item>> seen;
            lock (_rows)
            {
                seen = [.. _rows.Values.OrderBy(s => s.Id, StringComparer.Ordinal)]; // what the query reads, as of its start
            }

            for (int i = 0; i < seen.Count; i++)
            {
                if (i == 1 && Gate is { } gate)
                {
                    HeldAtGate.TrySetResult();
                    await gate.Task;
                }

                yield return seen[i];
            }
        }

        public IAsyncEnumerable<Stored<Item>> ListDueAsync(DateTimeOffset until, CancellationToken cancellationToken = default) =>
            AsyncEnumerable.Empty<Stored<Item>>();
    }
}
