namespace Smc.Integration.Tests.Infrastructure;

/// <summary>Runs the real smc-agent executable.</summary>
internal static class Agent
{
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) =>
        Tool.Run(Repo.AgentExe, args, check: false);

    /// <summary>As <see cref="Run"/>, with a longer hang guard (a migration whose image the control plane boots under TCG).</summary>
    public static (int ExitCode, string Stdout, string Stderr) RunWithin(TimeSpan hangAfter, params string[] args) =>
        Tool.Run(Repo.AgentExe, args, check: false, hangAfter: hangAfter);

    public static ChildProcess Start(params string[] args) => ChildProcess.Start(Repo.AgentExe, args);
}
