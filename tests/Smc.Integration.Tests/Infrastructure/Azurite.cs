namespace Smc.Integration.Tests.Infrastructure;

/// <summary>
/// A private Azurite (blob, queue, table) on free loopback ports: in memory, or on disk under a folder when it must
/// survive a restart. Missing Azurite fails the test.
/// </summary>
internal sealed class Azurite : IDisposable
{
    private readonly int _blob, _queue, _table;
    private readonly string? _location;
    private ChildProcess _process;

    private Azurite(ChildProcess process, int blob, int queue, int table, string? location)
    {
        (_process, _blob, _queue, _table, _location) = (process, blob, queue, table, location);
        ConnectionString =
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
            "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
            $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";
    }

    public string ConnectionString { get; }

    /// <param name="location">A folder to keep the data in (so <see cref="RestartAsync"/> keeps it); null = in memory.</param>
    public static async Task<Azurite> StartAsync(string? location = null)
    {
        if (!File.Exists(Repo.Azurite))
        {
            throw new InvalidOperationException($"Azurite is not installed at {Repo.Azurite}: run 'npm ci' in the repository root (scripts/test.sh does).");
        }

        int blob = FreePort.Next(), queue = FreePort.Next(), table = FreePort.Next();
        return new Azurite(await LaunchAsync(blob, queue, table, location), blob, queue, table, location);
    }

    /// <summary>
    /// Stops Azurite (SIGINT: it closes its stores as a storage service restart would) and, once
    /// <paramref name="whileDown"/> has run, starts it again on the same ports and data.
    /// </summary>
    public async Task RestartAsync(Func<Task>? whileDown = null)
    {
        if (_location is null)
        {
            throw new InvalidOperationException("An in-memory Azurite loses everything on restart; start it with a location.");
        }

        // Its stores are saved once each service says it closed; the node process itself may linger on a stray
        // handle, so it is ended after that.
        _process.Interrupt();
        foreach (string service in new[] { "Blob", "Queue", "Table" })
        {
            if (!_process.HasExited)
            {
                await _process.WaitForLineAsync($"Azurite {service} service successfully closed", TimeSpan.FromSeconds(30));
            }
        }

        _process.Dispose();
        if (whileDown is not null)
        {
            await whileDown();
        }

        _process = await LaunchAsync(_blob, _queue, _table, _location);
    }

    public void Dispose() => _process.Dispose();

    private static async Task<ChildProcess> LaunchAsync(int blob, int queue, int table, string? location)
    {
        string Port(int p) => p.ToString(System.Globalization.CultureInfo.InvariantCulture);
        List<string> args = location is null ? ["--inMemoryPersistence"] : ["--location", location];
        args.AddRange(
        [
            "--skipApiVersionCheck", "--disableProductStyleUrl", "--loose",
            "--blobHost", "127.0.0.1", "--blobPort", Port(blob),
            "--queueHost", "127.0.0.1", "--queuePort", Port(queue),
            "--tableHost", "127.0.0.1", "--tablePort", Port(table),
        ]);
        ChildProcess process = ChildProcess.Start(Repo.Azurite, args);
        await process.WaitForLineAsync("Table service is successfully listening", TimeSpan.FromSeconds(60));
        return process;
    }
}
