namespace Smc.Agent;

/// <summary>smc-agent's exit codes (documented in agent/Smc.Agent/README.md; scripts rely on them).</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int DiskError = 3;
    public const int Refused = 4;
    public const int Unreachable = 5;
    public const int NotRegistered = 6;
    public const int NeedsRoot = 7;
    public const int JobFailed = 8;

    /// <summary><c>check</c> found a <c>fail</c> (after <c>--fix</c>: one is left); <c>migrate</c> did not start because of one.</summary>
    public const int CheckFailed = 9;
    public const int Interrupted = 130;
}
