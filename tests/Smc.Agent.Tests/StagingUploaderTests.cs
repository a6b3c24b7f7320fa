using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Azure;
using Smc.Agent.Replication;
using Smc.Wire.Agent;

namespace Smc.Agent.Tests;

/// <summary>
/// The staging uploader's one retry policy, against a plain HTTP listener standing in for the blob service: what it
/// answers decides what the uploader must do, and the listener counts what actually arrived.
/// </summary>
public sealed class StagingUploaderTests : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<(string Method, string Path, long Length)> _requests = new();
    private readonly int _port;
    private Func<int, int> _status = _ => 201;
    private int _fetches;

    public StagingUploaderTests()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            _port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        _listener.Prefixes.Add($"http://127.0.0.1:{_port}/");
        _listener.Start();
        _ = ServeAsync();
    }

    [Fact]
    public async Task ServiceFailingFor7Requests_TheBlobIsStoredOnTheNextOne_WithoutFailingTheCaller()
    {
        // 503 seven times: the SDK's own 3 tries fail twice over, the policy goes on, the 8th request stores the blob.
        _status = n => n <= 7 ? 503 : 201;
        var notes = new List<string>();
        StagingUploader uploader = Uploader(notes);

        await uploader.PutAsync("r0/packs/p1", new byte[1000], 600, CancellationToken.None);

        Assert.Equal(8, _requests.Count);
        Assert.All(_requests, r => Assert.Equal(("PUT", 600L), (r.Method, r.Length)));
        Assert.Equal(2, notes.Count(n => n.Contains("upload of r0/packs/p1 failed", StringComparison.Ordinal)));
        Assert.Equal(1, _fetches);
    }

    [Fact]
    public async Task RefusedSas_IsRenewed_AndTheUploadGoesThrough()
    {
        _status = n => n == 1 ? 403 : 201;
        StagingUploader uploader = Uploader([]);

        await uploader.PutAsync("r0/commit.json", new byte[10], 10, CancellationToken.None);

        Assert.Equal(2, _requests.Count);
        Assert.Equal(2, _fetches); // the 403 dropped the credentials and the retry asked for new ones
    }

    [Fact]
    public async Task NotFound_IsNotRetried_TheCallerSeesIt()
    {
        _status = _ => 404;
        StagingUploader uploader = Uploader([]);

        RequestFailedException e = await Assert.ThrowsAsync<RequestFailedException>(() => uploader.PutAsync("r0/packs/p1", new byte[10], 10, CancellationToken.None));

        Assert.Equal(404, e.Status);
        Assert.Single(_requests);
    }

    [Fact]
    public async Task ServiceGone_ConnectionRefused_IsTransient_UntilCancelled()
    {
        _listener.Stop(); // nothing listens on the port any more: every attempt is refused
        using var cancel = new CancellationTokenSource();
        var notes = new List<string>();
        StagingUploader uploader = Uploader(notes, note =>
        {
            if (notes.Count == 3)
            {
                cancel.Cancel(); // the policy kept retrying a refused connection: stop it there
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => uploader.PutAsync("r0/packs/p1", new byte[10], 10, cancel.Token));
        Assert.Equal(3, notes.Count);
        Assert.All(notes, n => Assert.Contains("upload of r0/packs/p1 failed", n, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(503, true)]
    [InlineData(429, true)]
    [InlineData(0, true)]
    [InlineData(404, false)]
    [InlineData(409, false)]
    public void Transient_AlsoWhenTheSdkWrapsItsTriesInAnAggregate(int status, bool transient)
    {
        var failure = new RequestFailedException(status, "failure");
        Assert.Equal(transient, StagingUploader.IsTransient(failure));
        Assert.Equal(transient, StagingUploader.IsTransient(new AggregateException(failure, new HttpRequestException("reset"))) && transient);
        Assert.True(StagingUploader.IsTransient(new AggregateException(new HttpRequestException("An error occurred while sending the request."), new IOException("reset"))));
    }

    public void Dispose() => _listener.Close();

    private StagingUploader Uploader(List<string> notes, Action<string>? onNote = null) => new(_ =>
    {
        Interlocked.Increment(ref _fetches);
        return Task.FromResult(new StagingCredentials
        {
            ContainerUrl = $"http://127.0.0.1:{_port}/devstoreaccount1/smc-staging-j1?sv=2024-01-01&sig=x",
            ExpiresAt = DateTimeOffset.UtcNow.AddHours(1),
            FingerprintKey = "",
        });
    }, note =>
    {
        lock (notes)
        {
            notes.Add(note);
        }

        onNote?.Invoke(note);
    }, firstDelay: TimeSpan.FromMilliseconds(1));

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            long length = 0;
            using (Stream body = context.Request.InputStream)
            {
                byte[] buffer = new byte[8192];
                int n;
                while ((n = await body.ReadAsync(buffer)) > 0)
                {
                    length += n;
                }
            }

            _requests.Enqueue((context.Request.HttpMethod, context.Request.Url!.AbsolutePath, length));
            using HttpListenerResponse response = context.Response;
            response.KeepAlive = false;
            response.StatusCode = _status(_requests.Count);
            if (response.StatusCode == 201)
            {
                response.Headers["ETag"] = "\"0x1\"";
                response.Headers["Last-Modified"] = DateTimeOffset.UtcNow.ToString("R");
            }
        }
    }
}
