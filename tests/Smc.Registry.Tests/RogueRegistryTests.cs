using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Smc.Registry.Tests;

/// <summary>
/// A registry that tries to get the login sent elsewhere: a Bearer challenge whose realm is another host, an upload
/// session on another host. A second listener ("the attacker") records every Authorization header it is sent: it must
/// see none, and the push must fail with a clear code rather than follow. And registries that would keep a push going
/// forever: one that fails every chunk, one that answers TLS in plain HTTP — each ends with its code, counted on the
/// registry's side.
/// </summary>
public sealed class RogueRegistryTests
{
    private static readonly RegistryCredentials Login = new("smc", "operator-secret");

    [Theory]
    [InlineData("http")]
    [InlineData("https")]
    public async Task BearerRealmOnAnotherHost_IsRefusedBeforeAnythingIsSent(string scheme)
    {
        using var attacker = new Listener("localhost", _ => (202, null, null));
        using var registry = new Listener("127.0.0.1", _ => (401, ("WWW-Authenticate", $"Bearer realm=\"{scheme}://localhost:{attacker.Port}/token\",service=\"x\""), null));
        var client = new RegistryClient(new HttpClient(), new Uri($"http://127.0.0.1:{registry.Port}"), Login);

        RegistryException e = await Assert.ThrowsAsync<RegistryException>(() => client.BlobExistsAsync("app", RegistryClient.DigestOf("x"u8)));
        Assert.Equal("REALM_NOT_ALLOWED", e.Code);
        Assert.True(e.UserError);
        Assert.Empty(attacker.Requests);
        Assert.DoesNotContain(registry.Requests, r => r.Authorization is not null);
    }

    [Fact]
    public async Task UploadSessionOnAnotherHost_GetsNoLogin()
    {
        string basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("smc:operator-secret"));
        string attackerBase = "";
        using var attacker = new Listener("localhost", r => r.Method switch
        {
            "PATCH" => (202, ("Location", attackerBase + r.Path), null),
            "PUT" => (201, null, null),
            _ => (400, null, null),
        });
        attackerBase = $"http://localhost:{attacker.Port}";
        using var registry = new Listener("127.0.0.1", r => (r.Authorization == basic, r.Method) switch
        {
            (false, _) => (401, ("WWW-Authenticate", "Basic realm=\"registry\""), null),
            (true, "HEAD") => (404, null, null),
            (true, "POST") => (202, ("Location", $"http://localhost:{attacker.Port}/upload/1"), null),
            _ => (400, null, null),
        });
        var client = new RegistryClient(new HttpClient(), new Uri($"http://127.0.0.1:{registry.Port}"), Login);

        await client.PushBlobAsync("app", "layer bytes"u8.ToArray());

        Assert.Contains(registry.Requests, r => r.Authorization == basic); // the registry itself got the login
        Assert.Equal(["PATCH", "PUT"], attacker.Requests.Select(r => r.Method));
        Assert.All(attacker.Requests, r => Assert.Null(r.Authorization));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RegistryThatFailsEveryChunk_PushEndsWithPushStalled_AfterABoundedNumberOfAttempts(bool stream)
    {
        // Every PATCH answers 500 and the session's status says nothing was kept: each recovery succeeds, the next PATCH
        // fails again. The push used to go round this loop for ever.
        using var registry = new Listener("127.0.0.1", r => r.Method switch
        {
            "HEAD" => (404, null, null),
            "POST" => (202, ("Location", "/v2/app/blobs/uploads/1"), null),
            "PATCH" => (500, null, null),
            "GET" => (204, ("Range", "0-0"), null),
            _ => (400, null, null),
        });
        var client = new RegistryClient(new HttpClient(), new Uri($"http://127.0.0.1:{registry.Port}"), recoveryAttempts: 3, firstDelay: TimeSpan.FromMilliseconds(1));
        byte[] layer = new byte[100];

        RegistryException e = await Assert.ThrowsAsync<RegistryException>(() => stream
            ? client.PushStreamAsync("app", _ => Task.FromResult<Stream>(new MemoryStream(layer)))
            : client.PushBlobAsync("app", layer));

        Assert.Equal("PUSH_STALLED", e.Code);
        Assert.False(e.UserError);
        // 3 recoveries in a row allowed: the 4th failed PATCH ends it.
        Assert.Equal(4, registry.Requests.Count(r => r.Method == "PATCH"));
        Assert.Contains("failed 4 chunk uploads in a row", e.Message);
        Assert.DoesNotContain(registry.Requests, r => r.Method == "PUT");
    }

    [Fact]
    public async Task TlsToARegistryThatSpeaksPlainHttp_FailsAtOnce_WithTlsFailedAndWhatToSet()
    {
        using var plain = new TcpListener(IPAddress.Loopback, 0);
        plain.Start();
        int connections = 0;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                TcpClient peer;
                try
                {
                    peer = await plain.AcceptTcpClientAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }

                Interlocked.Increment(ref connections);
                using (peer)
                {
                    await peer.GetStream().WriteAsync("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
                }
            }
        });
        int port = ((IPEndPoint)plain.LocalEndpoint).Port;
        var client = new RegistryClient(new HttpClient(), new Uri($"https://127.0.0.1:{port}"), Login, firstDelay: TimeSpan.FromMilliseconds(1));

        RegistryException e = await Assert.ThrowsAsync<RegistryException>(() => client.PushBlobAsync("app", "layer"u8.ToArray()));

        Assert.Equal("TLS_FAILED", e.Code);
        Assert.True(e.UserError);
        Assert.Contains("SMC_REGISTRY__INSECURE", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, Volatile.Read(ref connections)); // not retried: 13 connections before
    }

    /// <summary>An HTTP listener on a free port that answers with <c>respond</c> and records each request's method, path and Authorization.</summary>
    private sealed class Listener : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly ConcurrentQueue<Seen> _requests = new();

        public Listener(string host, Func<Seen, (int Status, (string Name, string Value)? Header, string? Body)> respond)
        {
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }

            _listener.Prefixes.Add($"http://{host}:{Port}/");
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                    {
                        return;
                    }

                    var seen = new Seen(context.Request.HttpMethod, context.Request.Url!.PathAndQuery, context.Request.Headers["Authorization"]);
                    _requests.Enqueue(seen);
                    using (context.Request.InputStream)
                    {
                        await context.Request.InputStream.CopyToAsync(Stream.Null);
                    }

                    (int status, (string Name, string Value)? header, string? body) = respond(seen);
                    using HttpListenerResponse response = context.Response;
                    // One connection per request: a request sent on a kept-alive connection the listener is closing fails in
                    // the client's transport, unseen here, and the counts below would depend on that race.
                    response.KeepAlive = false;
                    response.StatusCode = status;
                    if (header is var (name, value))
                    {
                        response.Headers[name] = value;
                    }

                    if (body is not null)
                    {
                        await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(body));
                    }
                }
            });
        }

        public int Port { get; }

        public IReadOnlyList<Seen> Requests => [.. _requests];

        public void Dispose() => _listener.Close();
    }

    private sealed record Seen(string Method, string Path, string? Authorization);
}
