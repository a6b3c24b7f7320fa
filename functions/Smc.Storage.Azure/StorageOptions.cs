namespace Smc.Storage.Azure;

/// <summary>Where the control plane keeps its state (configuration section <c>SMC_STORAGE__*</c>).</summary>
public sealed class StorageOptions
{
    /// <summary>Azurite's well-known development account, the embedded default.</summary>
    public const string DevelopmentStorage = "UseDevelopmentStorage=true";

    /// <summary>A storage account connection string; Azurite's development storage by default.</summary>
    public string ConnectionString { get; set; } = DevelopmentStorage;

    /// <summary>Prefix of every table, container and the task hub, so several deployments can share one account.</summary>
    public string Prefix { get; set; } = "smc";

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new InvalidOperationException("SMC_STORAGE__CONNECTIONSTRING is empty; leave it unset for Azurite or give a storage account connection string.");
        }

        if (Prefix.Length is < 3 or > 20 || !char.IsAsciiLetterLower(Prefix[0]) || !Prefix.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
        {
            throw new InvalidOperationException("SMC_STORAGE__PREFIX must be 3–20 lower-case letters or digits, starting with a letter.");
        }
    }

    public string TableName(string kind) => Prefix + kind;

    public string ContainerName(string kind) => Prefix + "-" + kind.ToLowerInvariant();

    public string TaskHubName => Prefix + "hub";

    /// <summary>The account name only, for logs: a connection string holds the key and never reaches a log.</summary>
    public string AccountForLogs()
    {
        foreach (string part in ConnectionString.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("AccountName=", StringComparison.OrdinalIgnoreCase))
            {
                return part["AccountName=".Length..];
            }

            if (part.StartsWith("UseDevelopmentStorage", StringComparison.OrdinalIgnoreCase))
            {
                return "devstoreaccount1 (Azurite)";
            }
        }

        return "(connection string)";
    }
}
