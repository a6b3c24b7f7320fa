using System.Net.Sockets;

namespace Smc.Integration.Tests.Infrastructure;

/// <summary>A private Azurite (blob, queue, table) on free loopback ports, in memory. Missing Azurite fails the test.</summary>
internal sealed class Azurite : IDisposable
{
    private readonly ChildProcess _process;

    private Azurite(ChildProcess process, int blob, int queue, int table)
    {
        _process = process;
        ConnectionString =
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
            "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
            $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";
    }

    public string ConnectionString { get; }

    public static async Task<Azurite> StartAsync()
    {
        if (!File.Exists(Repo.Azurite))
        {
            throw new InvalidOperationException($"Azurite is not installed at {Repo.Azurite}: run 'npm ci' in the repository root (scripts/test.sh does).");
        }

        int blob = FreePort.Next(), queue = FreePort.Next(), table = FreePort.Next();
        ChildProcess process = ChildProcess.Start(Repo.Azurite,
        [
            "--inMemoryPersistence", "--skipApiVersionCheck", "--disableProductStyleUrl", "--loose",
            "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tableHost", "127.0.0.1", "--tablePort", table.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ]);
        await process.WaitForLineAsync("Table service is successfully listening", TimeSpan.FromSeconds(60));
        return new Azurite(process, blob, queue, table);
    }

    public void Dispose() => _process.Dispose();
}
