namespace Smc.Core.Services;

/// <summary>What was staged can't be trusted or used; the run fails with <see cref="Code"/>, nothing is made from it.</summary>
public sealed class StagingRefusedException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
