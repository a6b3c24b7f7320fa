namespace Smc.Core.Options;

/// <summary>
/// The control plane's master key, which encrypts each job's RSA private key at rest (section <c>SMC_SECURITY__*</c>).
/// Give <see cref="MasterKey"/> (base64 of 32 bytes; in Azure a Key Vault reference) to every host of a deployment;
/// without it the standalone host keeps one in <see cref="MasterKeyFile"/>, created 0600 on first start.
/// </summary>
public sealed class SecurityOptions
{
    public string? MasterKey { get; set; }

    public string MasterKeyFile { get; set; } = Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "smc-control", "master.key");

    /// <summary>
    /// Whether a host may make and keep its own key file when <see cref="MasterKey"/> is unset. The Functions app
    /// turns it off: its instances come and go, so they must all be given the same key.
    /// </summary>
    public bool AllowKeyFile { get; set; } = true;

    /// <summary>
    /// Seconds a host trusts the operator key's hash it read (<c>SMC_SECURITY__OPERATORKEYCACHESECONDS</c>, 1–300): a key
    /// rotated by starting one host with a new SMC_ADMIN_KEY is refused by every host within this.
    /// </summary>
    public int OperatorKeyCacheSeconds { get; set; } = 30;

    /// <summary>
    /// Spare job key pairs housekeeping keeps made ahead (<c>SMC_SECURITY__JOBKEYSPARES</c>, 0–256; 0 makes each job's
    /// pair when its first round is issued). An RSA-3072 pair costs ~0.8 s of a core; a burst of new jobs takes spares
    /// instead of waiting for primes. Housekeeping makes at most 4 per pass.
    /// </summary>
    public int JobKeySpares { get; set; } = 16;

    /// <summary>Lifetime of a staging SAS handed to an agent.</summary>
    public int StagingSasMinutes { get; set; } = 60;
}
