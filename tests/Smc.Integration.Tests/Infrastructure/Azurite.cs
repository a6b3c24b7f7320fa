using Smc.Testing;

namespace Smc.Integration.Tests.Infrastructure;

/// <summary>
/// A private Azurite (blob, queue, table) on free loopback ports: in memory, or on disk under a folder when it must
/// survive a restart. Missing Azurite fails the test.
/// </summary>
internal sealed partial class Azurite : IDisposable
{
    /// <summary>Azurite's one well-known development account.</summary>
    private const string Account = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        + "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;";

    private readonly int _blob, _queue, _table;
    private readonly string? _location;
    private ChildProcess _process;

    private Azurite(ChildProcess process, int blob, int queue, int table, string? location)
    {
        (_process, _blob, _queue, _table, _location) = (process, blob, queue, table, location);
        ConnectionString =
            Account +
            $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";
    }

    public string ConnectionString { get; }

    /// <summary>This Azurite's queues and tables with blobs served at <paramref name="blobEndpoint"/> (another process, a relay).</summary>
    public string ConnectionStringWithBlobs(string blobEndpoint) =>
        System.Text.RegularExpressions.Regex.Replace(ConnectionString, "BlobEndpoint=[^;]*;", $"BlobEndpoint={blobEndpoint};");

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

    /// <summary>
    /// Azurite's blob service alone in its own process, on disk under <paramref name="location"/>, so it can be killed
    /// without taking the queues and tables of the control plane's orchestrations with it.
    /// </summary>
    public static async Task<BlobOnly> StartBlobOnlyAsync(string location)
    {
        var blob = new BlobOnly(FreePort.Next(), location);
        await blob.StartAsync();
        return blob;
    }

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

    /// <summary>A blob-only Azurite that a test can SIGKILL and start again on the same port and data.</summary>
    internal sealed class BlobOnly(int port, string location) : IDisposable
    {
        private ChildProcess? _process;

        public int Port { get; } = port;

        /// <summary>Where Azurite keeps its blob metadata (LokiJS, saved every 5 s: see <see cref="HasSaved"/>).</summary>
        public string MetadataFile => Path.Combine(location, "__azurite_db_blob__.json");

        /// <summary>Where Azurite keeps its extent (blob content) index, saved on the same 5-second timer.</summary>
        public string ExtentsFile => Path.Combine(location, "__azurite_db_blob_extent__.json");

        public string ConnectionString =>
            Account +
            $"BlobEndpoint=http://127.0.0.1:{Port}/devstoreaccount1;";

        /// <summary>
        /// True once Azurite's files on disk hold a blob written at <paramref name="writtenAtMs"/> (Unix ms) or later:
        /// its index names <paramref name="blobName"/> and its extent index has an extent modified since then. Both are
        /// saved whole, so everything Azurite answered before that write is on disk too.
        /// </summary>
        public bool HasSaved(string blobName, long writtenAtMs)
        {
            try
            {
                return File.Exists(MetadataFile) && File.ReadAllText(MetadataFile).Contains(blobName, StringComparison.Ordinal)
                    && File.Exists(ExtentsFile) && LastModified().Matches(File.ReadAllText(ExtentsFile))
                        .Any(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= writtenAtMs);
            }
            catch (IOException)
            {
                return false; // being replaced
            }
        }

        public async Task StartAsync()
        {
            string exe = Path.Combine(Path.GetDirectoryName(Repo.Azurite)!, "azurite-blob");
            string p = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _process = ChildProcess.Start(exe, ["--location", location, "--skipApiVersionCheck", "--disableProductStyleUrl", "--loose", "--blobHost", "127.0.0.1", "--blobPort", p]);
            await _process.WaitForLineAsync("Blob service successfully listens", TimeSpan.FromSeconds(60));
        }

        /// <summary>SIGKILL: Azurite saves nothing on the way out.</summary>
        public void Kill() => _process?.Kill();

        public void Dispose() => _process?.Dispose();
    }

    // A new extent carries lastModifiedInMS; an append to an existing one is recorded by Azurite's Loki store under
    // LastModifyInMS (LokiExtentMetadataStore.updateExtent), leaving lastModifiedInMS at the extent's creation.
    [System.Text.RegularExpressions.GeneratedRegex(@"""(?:lastModifiedInMS|LastModifyInMS)"":(\d+)")]
    private static partial System.Text.RegularExpressions.Regex LastModified();
}
