using System.Diagnostics;

namespace Smc.Integration.Tests.Infrastructure;

/// <summary>Runs a command to completion; a non-zero exit (or a missing tool) fails the test with its output.</summary>
internal static class Tool
{
    /// <param name="hangAfter">The hang guard (3 minutes unless given): not a timing assertion, a bound on waiting.</param>
    public static (int ExitCode, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, IDictionary<string, string>? env = null, bool check = true, string? stdin = null,
        TimeSpan? hangAfter = null)
    {
        TimeSpan bound = hangAfter ?? TimeSpan.FromMinutes(3);
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Repo.Root,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var kv in env ?? new Dictionary<string, string>())
        {
            psi.Environment[kv.Key] = kv.Value;
        }

        using Process p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {file}");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
        }

        p.StandardInput.Close();
        if (!p.WaitForExit(bound))
        {
            p.Kill(true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {bound.TotalMinutes:0} minutes.");
        }

        p.WaitForExit();
        if (check && p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        }

        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
