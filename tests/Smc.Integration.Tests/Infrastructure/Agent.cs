namespace Smc.Integration.Tests.Infrastructure;

/// <summary>Runs the real smc-agent executable.</summary>
internal static class Agent
{
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) =>
        Tool.Run(Repo.AgentExe, args, check: false);

    public static ChildProcess Start(params string[] args) => ChildProcess.Start(Repo.AgentExe, args);
}
