using System.Collections.Concurrent;
using System.Diagnostics;

namespace Smc.Integration.Tests.Infrastructure;

/// <summary>A process the tests started, with its output captured and a way to wait for a line of it.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _newLine = new(0);

    private ChildProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public IReadOnlyCollection<string> Lines => _lines;

    public string Output => string.Join('\n', _lines);

    public static ChildProcess Start(string file, IEnumerable<string> args, IDictionary<string, string>? env = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var kv in env ?? new Dictionary<string, string>())
        {
            psi.Environment[kv.Key] = kv.Value;
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) => child.Add(e.Data);
        process.ErrorDataReceived += (_, e) => child.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits until a line containing <paramref name="text"/> appears; fails with the output if the process exits or time runs out.</summary>
    public async Task WaitForLineAsync(string text, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!_lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
        {
            if (_process.HasExited)
            {
                await Task.Delay(100, CancellationToken.None);
                throw new InvalidOperationException($"Process exited ({_process.ExitCode}) before printing '{text}':\n{Output}");
            }

            try
            {
                await _newLine.WaitAsync(TimeSpan.FromMilliseconds(200), cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"'{text}' not printed within {timeout}:\n{Output}");
            }
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Process did not exit within {timeout}:\n{Output}");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown code runs (a crash, as far as the process can tell).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    /// <summary>SIGINT, as Ctrl+C would send.</summary>
    public void Interrupt() => Signal("-INT");

    /// <summary>SIGTERM, as a service manager stopping the process sends.</summary>
    public void Terminate() => Signal("-TERM");

    private void Signal(string signal)
    {
        if (!_process.HasExited)
        {
            using Process kill = Process.Start("kill", [signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        SaveLog();
        _process.Dispose();
        _newLine.Dispose();
    }

    /// <summary>Keeps the output in .artifacts/test-logs (name-pid.log) for reading after a failed run.</summary>
    private void SaveLog()
    {
        try
        {
            string dir = Path.Combine(Repo.Root, ".artifacts", "test-logs");
            Directory.CreateDirectory(dir);
            string name = Path.GetFileNameWithoutExtension(_process.StartInfo.ArgumentList.FirstOrDefault(a => a.EndsWith(".dll", StringComparison.Ordinal)) ?? _process.StartInfo.FileName);
            File.WriteAllLines(Path.Combine(dir, $"{name}-{_process.Id}.log"), _lines);
        }
        catch (IOException)
        {
            // A log that can't be written must not fail the test that owns the process.
        }
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line);
            _newLine.Release();
        }
    }
}
