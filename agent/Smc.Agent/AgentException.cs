namespace Smc.Agent;

/// <summary>A failure the agent reports with a message and one of its <see cref="ExitCodes"/>.</summary>
internal sealed class AgentException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
