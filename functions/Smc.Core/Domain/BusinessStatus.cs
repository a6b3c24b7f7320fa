namespace Smc.Core.Domain;

/// <summary>The stage of a <c>Running</c> job.</summary>
public static class BusinessStatus
{
    public const string Preparing = "Preparing";
    public const string Syncing = "Syncing";
    public const string Processing = "Processing";
    public const string Cleaning = "Cleaning";

    public static readonly IReadOnlyList<string> All = [Preparing, Syncing, Processing, Cleaning];
}
