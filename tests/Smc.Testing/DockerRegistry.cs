using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Smc.Testing;

/// <summary>
/// Debian's <c>docker-registry</c> (distribution 2.8) on loopback, from a config of its own (never the packaged one,
/// which listens on all interfaces): filesystem storage in a temp directory, optionally htpasswd (bcrypt) auth.
/// <see cref="RestartAsync"/> kills it and starts it again on the same port and storage, as a crashed registry would.
/// </summary>
public sealed class DockerRegistry : IAsyncDisposable
{
    private readonly string _root;
    private readonly string _config;
    private Process? _process;

    private DockerRegistry(string root, string config, int port)
    {
        _root = root;
        _config = config;
        Port = port;
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}");

    public string Host => $"127.0.0.1:{Port}";

    /// <param name="token">Token auth instead: the token server's realm and the PEM of the certificate its tokens carry.</param>
    public static async Task<DockerRegistry> StartAsync((string User, string Password)? basic = null, (string Realm, string CertificatePem)? token = null)
    {
        string root = Path.Combine(Path.GetTempPath(), "smc-registry-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path.Combine(root, "data"));
        int port = FreePort.Next();
        string auth = "";
        if (basic is { } b)
        {
            string htpasswd = Path.Combine(root, "htpasswd");
            await File.WriteAllTextAsync(htpasswd, Run("htpasswd", "-Bbn", b.User, b.Password).Trim() + "\n");
            auth = $"auth:\n  htpasswd:\n    realm: smc-test\n    path: {htpasswd}\n";
        }

        if (token is { } t)
        {
            string bundle = Path.Combine(root, "token-issuer.pem");
            await File.WriteAllTextAsync(bundle, t.CertificatePem);
            auth = $"auth:\n  token:\n    realm: {t.Realm}\n    service: {TokenServer.Service}\n    issuer: {TokenServer.Issuer}\n    rootcertbundle: {bundle}\n";
        }

        string config = Path.Combine(root, "config.yml");
        await File.WriteAllTextAsync(config,
            $"version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {Path.Combine(root, "data")}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: smc-registry-test-secret\n{auth}");
        var registry = new DockerRegistry(root, config, port);
        await registry.LaunchAsync();
        return registry;
    }

    /// <summary>Bytes the registry holds in unfinished upload sessions (what a push in flight has sent so far).</summary>
    public long UploadingBytes()
    {
        string repositories = Path.Combine(_root, "data", "docker", "registry", "v2", "repositories");
        return Directory.Exists(repositories)
            ? Directory.EnumerateFiles(repositories, "data", SearchOption.AllDirectories).Where(f => f.Contains("/_uploads/", StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length)
            : 0;
    }

    /// <summary>SIGKILL, then the same registry again (same port, same storage: upload sessions survive on disk).</summary>
    public async Task RestartAsync()
    {
        Kill();
        await LaunchAsync();
    }

    /// <summary>SIGKILL now, the same registry again in the background (a client retries until it answers).</summary>
    public Task CrashAndRestartAsync()
    {
        Kill();
        return Task.Run(LaunchAsync);
    }

    public void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    public static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}");
        }

        return stdout.Result;
    }

    private async Task LaunchAsync()
    {
        var psi = new ProcessStartInfo("docker-registry") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("serve");
        psi.ArgumentList.Add(_config);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        void OnLine(object _, DataReceivedEventArgs e)
        {
            if (e.Data is { } line)
            {
                log.Enqueue(line);
                if (line.Contains("listening on", StringComparison.Ordinal))
                {
                    ready.TrySetResult();
                }
            }
        }

        process.OutputDataReceived += OnLine;
        process.ErrorDataReceived += OnLine;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("docker-registry exited:\n" + string.Join('\n', log)));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

}
