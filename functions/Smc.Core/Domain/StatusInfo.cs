namespace Smc.Core.Domain;

/// <summary>What went wrong last, with a code and a message that says what to do.</summary>
public sealed class StatusInfo
{
    public string? ErrorCode { get; set; }

    public string? ErrorMessage { get; set; }
}
