using System.Diagnostics;
using Spectre.Console;

namespace Smc.Agent.Commands;

/// <summary><c>smc-agent install</c> / <c>uninstall</c>: the systemd unit that keeps <c>smc-agent run</c> going.</summary>
internal static class InstallCommand
{
    public const string UnitName = "smc-agent.service";
    public const string DefaultUnitDir = "/etc/systemd/system";

    public static int Install(string configPath, string unitDir, bool start, IAnsiConsole console)
    {
        AgentConfig.LoadRequired(configPath);
        string exe = Environment.ProcessPath ?? throw new AgentException(ExitCodes.Failure, "Can't tell where smc-agent runs from.");
        string unit = $"""
            [Unit]
            Description=SMC Serverless migration agent
            After=network-online.target
            Wants=network-online.target

            [Service]
            Type=simple
            ExecStart="{exe}" run --config "{Path.GetFullPath(configPath)}"
            Restart=always
            RestartSec=5
            KillSignal=SIGINT
            TimeoutStopSec=30
            UMask=0077

            [Install]
            WantedBy=multi-user.target

            """;
        string unitPath = Path.Combine(unitDir, UnitName);
        try
        {
            Directory.CreateDirectory(unitDir);
            File.WriteAllText(unitPath, unit);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new AgentException(ExitCodes.NeedsRoot, $"Can't write {unitPath}: run as root.", e);
        }

        if (start)
        {
            Systemctl("daemon-reload");
            Systemctl("enable", "--now", UnitName);
        }

        console.MarkupLineInterpolated($"Installed {unitPath}{(start ? " and started it" : "")}.");
        return ExitCodes.Ok;
    }

    public static int Uninstall(string configPath, string unitDir, bool stop, bool purge, IAnsiConsole console)
    {
        string unitPath = Path.Combine(unitDir, UnitName);
        if (stop && File.Exists(unitPath))
        {
            Systemctl("disable", "--now", UnitName);
        }

        try
        {
            File.Delete(unitPath);
            if (stop)
            {
                Systemctl("daemon-reload");
            }

            if (purge)
            {
                File.Delete(configPath);
            }
        }
        catch (UnauthorizedAccessException e)
        {
            throw new AgentException(ExitCodes.NeedsRoot, $"Can't remove {unitPath}: run as root.", e);
        }

        console.MarkupLineInterpolated($"Removed {unitPath}{(purge ? " and " + configPath : "")}.");
        return ExitCodes.Ok;
    }

    private static void Systemctl(params string[] args)
    {
        var psi = new ProcessStartInfo("systemctl") { RedirectStandardError = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            using Process p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                throw new AgentException(ExitCodes.Failure, $"systemctl {string.Join(' ', args)} failed: {err.Trim()} (use --no-start where systemd isn't running).");
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new AgentException(ExitCodes.Failure, "systemctl not found; this machine has no systemd. Use --no-start and run 'smc-agent run' from your init system.", e);
        }
    }
}
