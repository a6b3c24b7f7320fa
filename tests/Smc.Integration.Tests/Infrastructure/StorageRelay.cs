using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Smc.Integration.Tests.Infrastructure;

/// <summary>
/// A TCP relay in front of a storage port that reads the HTTP/1.1 requests passing through it, so a test can see on
/// the wire what storage was asked and answered, and stop traffic at a chosen request: <see cref="HoldWhen"/> arms a
/// trap on a request line; once that request has sent part of its body, no connection forwards another byte towards
/// storage until <see cref="Release"/> — the trapped request stays in flight, unanswered, for as long as the test
/// needs (to kill the storage process under it). Responses keep flowing. Nothing is changed in what is relayed.
/// </summary>
/// <remarks>
/// Requests are framed by their Content-Length (the Azure SDK sends every body that way); a connection that uses
/// another framing is relayed but no longer read. When storage is down a new connection is accepted and closed at
/// once, as a refused connection would look through a load balancer.
/// </remarks>
internal sealed class StorageRelay : IDisposable
{
    private const int MaxHead = 64 * 1024;

    private readonly TcpListener _listener;
    private readonly int _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<Exchange> _exchanges = new();
    private readonly ConcurrentDictionary<Connection, bool> _open = new();
    private readonly Lock _lock = new();
    private volatile TaskCompletionSource _gate = Open();
    private (Func<string, bool> Match, long AfterBodyBytes, TaskCompletionSource<Exchange> Fired)? _trap;

    public StorageRelay(int upstreamPort)
    {
        _upstream = upstreamPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Every request seen, in the order their heads arrived, with what storage began to answer.</summary>
    public IReadOnlyList<Exchange> Exchanges => [.. _exchanges];

    /// <summary>
    /// Arms the trap: the first request whose request line matches, once at least <paramref name="afterBodyBytes"/>
    /// of its body went to storage, holds all traffic towards storage. The task gives that request.
    /// </summary>
    public Task<Exchange> HoldWhen(Func<string, bool> requestLine, long afterBodyBytes)
    {
        var fired = new TaskCompletionSource<Exchange>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _trap = (requestLine, afterBodyBytes, fired);
        }

        return fired.Task;
    }

    /// <summary>Requests that have been sent (wholly or in part) and got no answer yet, the held one included.</summary>
    public IReadOnlyList<Exchange> InFlight => [.. _open.Keys.Select(c => c.Current).OfType<Exchange>().Where(e => e.Status is null)];

    /// <summary>Lets traffic towards storage flow again.</summary>
    public void Release() => _gate.TrySetResult();

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        Release();
        foreach (Connection c in _open.Keys)
        {
            c.Abort();
        }

        _stop.Dispose();
    }

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await server.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _upstream), _stop.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            server.Dispose();
            await RefuseAsync(client);
            return;
        }

        var connection = new Connection(client, server);
        _open[connection] = true;
        try
        {
            Task requests = PumpAsync(connection, client, server, RequestsAsync);
            Task responses = PumpAsync(connection, server, client, Responses);
            await Task.WhenAll(requests, responses);
        }
        finally
        {
            _open.TryRemove(connection, out _);
            connection.Abort();
        }
    }

    /// <summary>Storage is down: notes which request found it so (its head) and resets the connection.</summary>
    private async Task RefuseAsync(Socket client)
    {
        var head = new List<byte>();
        byte[] buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            while (head.Count < MaxHead && System.Runtime.InteropServices.CollectionsMarshal.AsSpan(head).IndexOf("\r\n\r\n"u8) < 0)
            {
                int n = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    break;
                }

                head.AddRange(buffer.AsSpan(0, n));
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // what arrived is enough
        }

        string text = Encoding.ASCII.GetString([.. head]);
        _exchanges.Enqueue(new Exchange(text.Split("\r\n")[0], 0) { Refused = true });
        Reset(client);
    }

    /// <summary>The head read byte by byte so far ends with its blank line.</summary>
    private static bool EndsHead(List<byte> head) =>
        head.Count >= 4 && head[^1] == '\n' && head[^2] == '\r' && head[^3] == '\n' && head[^4] == '\r';

    /// <summary>Closes with a reset, not an orderly end, so the peer can't mistake it for a complete answer.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // already closed
        }

        socket.Dispose();
    }

    /// <summary>
    /// Copies one direction. Its end (the peer closed its side) is passed on as a half-close, so the other direction
    /// still delivers what is under way; a failure resets both sides, so neither peer mistakes it for an end.
    /// </summary>
    private async Task PumpAsync(Connection connection, Socket from, Socket to, Func<Connection, Memory<byte>, Task> forward)
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await forward(connection, buffer.AsMemory(0, n));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            connection.Abort();
        }
    }

    private async Task RequestsAsync(Connection c, Memory<byte> data)
    {
        while (data.Length > 0)
        {
            await _gate.Task;
            int used = c.Parsing ? Read(c, data.Span) : data.Length;
            await SendAsync(c.Server, data[..used]);
            data = data[used..];
            if (c.Current is { } e && c.InBody)
            {
                e.BodySent += used;
                lock (_lock)
                {
                    if (_trap is { } t && c.Trapped && e.BodySent >= t.AfterBodyBytes)
                    {
                        _trap = null;
                        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        e.Held = true;
                        t.Fired.TrySetResult(e);
                    }
                }
            }
        }
    }

    /// <summary>Consumes at most one step of the request framing from <paramref name="data"/>; returns the bytes used.</summary>
    private int Read(Connection c, ReadOnlySpan<byte> data)
    {
        if (c.BodyLeft > 0)
        {
            int body = (int)Math.Min(c.BodyLeft, data.Length);
            c.BodyLeft -= body;
            c.InBody = true;
            return body;
        }

        c.InBody = false;
        int take = 0;
        while (take < data.Length)
        {
            c.Head.Add(data[take++]);
            if (EndsHead(c.Head))
            {
                StartRequest(c, Encoding.ASCII.GetString([.. c.Head]));
                c.Head.Clear();
                break;
            }

            if (c.Head.Count > MaxHead)
            {
                c.Parsing = false;
                break;
            }
        }

        return take;
    }

    private void StartRequest(Connection c, string head)
    {
        string[] lines = head.Split("\r\n");
        string? length = lines.Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Select(p => p[1].Trim()).FirstOrDefault();
        if (lines.Any(l => l.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase)))
        {
            c.Parsing = false;
        }

        var exchange = new Exchange(lines[0], length is null ? 0 : long.Parse(length, CultureInfo.InvariantCulture));
        c.Current = exchange;
        c.BodyLeft = exchange.ContentLength;
        _exchanges.Enqueue(exchange);
        lock (_lock)
        {
            c.Trapped = _trap is { } t && t.Match(exchange.RequestLine);
        }
    }

    private Task Responses(Connection c, Memory<byte> data)
    {
        if (c.Current is { Status: null } e)
        {
            // The status line's first bytes arrive in the first segment in practice; a shorter one is read as far as it goes.
            string start = Encoding.ASCII.GetString(data.Span[..Math.Min(data.Length, 12)]);
            int status = start.Length >= 12 && int.TryParse(start.AsSpan(9, 3), CultureInfo.InvariantCulture, out int s) ? s : 0;
            if (status != 100)
            {
                // "100 Continue" is not the answer; the final status follows it.
                e.Status = status;
                e.AnsweredAt = DateTimeOffset.UtcNow;
            }
        }

        return SendAsync(c.Client, data);
    }

    private async Task SendAsync(Socket to, ReadOnlyMemory<byte> data)
    {
        while (data.Length > 0)
        {
            int sent = await to.SendAsync(data, SocketFlags.None, _stop.Token);
            data = data[sent..];
        }
    }

    /// <summary>One request through the relay: its request line, how much of its body went on, and the answer's status.</summary>
    internal sealed class Exchange(string requestLine, long contentLength)
    {
        public string RequestLine { get; } = requestLine;

        public long ContentLength { get; } = contentLength;

        public long BodySent { get; set; }

        /// <summary>The HTTP status storage began to answer with (0 when unreadable); null while unanswered.</summary>
        public int? Status { get; set; }

        public DateTimeOffset? AnsweredAt { get; set; }

        /// <summary>The request came while storage was down; its connection was reset.</summary>
        public bool Refused { get; init; }

        /// <summary>The request the trap held.</summary>
        public bool Held { get; set; }

        /// <summary>The request line's path without its query (the SAS).</summary>
        public string Path => RequestLine.Split(' ') is [_, var target, ..] ? target.Split('?')[0] : "";

        public string Method => RequestLine.Split(' ')[0];

        public override string ToString() => $"{Method} {Path} body {BodySent}/{ContentLength} -> {(Refused ? "refused" : Status?.ToString(CultureInfo.InvariantCulture) ?? "(none)")}";
    }

    private sealed class Connection(Socket client, Socket server)
    {
        public Socket Client { get; } = client;

        public Socket Server { get; } = server;

        public List<byte> Head { get; } = [];

        public bool Parsing { get; set; } = true;

        public bool InBody { get; set; }

        public long BodyLeft { get; set; }

        public bool Trapped { get; set; }

        public Exchange? Current { get; set; }

        public void Abort()
        {
            Reset(Client);
            Reset(Server);
        }
    }
}
