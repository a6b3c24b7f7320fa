using System.ComponentModel;
using System.Diagnostics;

namespace Smc.Testing;

/// <summary>Runs the real disk tools. A missing tool or a non-zero exit throws (with stderr), so the test fails — never skips.</summary>
public static class Tool
{
    private static readonly string[] ExtraDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

    public static string Run(string tool, params string[] args) => RunWithInput(tool, null, args);

    public static string RunWithInput(string tool, string? stdin, params string[] args) => RunCore(tool, stdin, args).Stdout;

    /// <summary>Runs the tool and returns its standard output followed by its standard error (warnings some tools print there with exit code 0).</summary>
    public static string RunCombined(string tool, params string[] args)
    {
        (string stdout, string stderr) = RunCore(tool, null, args);
        return stdout + stderr;
    }

    private static (string Stdout, string Stderr) RunCore(string tool, string? stdin, string[] args)
    {
        string path = Resolve(tool);
        var info = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["LC_ALL"] = "C";
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {tool}.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"Could not start '{tool}' ({path}); is it installed? {e.Message}", e);
        }

        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (stdin is not null)
            {
                process.StandardInput.Write(stdin);
                process.StandardInput.Close();
            }

            if (!process.WaitForExit(120_000))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{tool} {string.Join(' ', args)} did not finish in 120 s.");
            }

            process.WaitForExit();
            string output = stdout.GetAwaiter().GetResult();
            string error = stderr.GetAwaiter().GetResult();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"{tool} {string.Join(' ', args)} exited with {process.ExitCode}.\nstderr: {error}\nstdout: {output}");
            }

            return (output, error);
        }
    }

    /// <summary>Finds <paramref name="tool"/> on PATH or in the sbin directories (they are not always on a non-login PATH).</summary>
    private static string Resolve(string tool)
    {
        if (tool.Contains('/', StringComparison.Ordinal))
        {
            return tool;
        }

        IEnumerable<string> dirs = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(ExtraDirectories);
        foreach (string dir in dirs)
        {
            string candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"The tool '{tool}' is not installed (not on PATH nor in /usr/sbin or /sbin).");
    }
}
