using System.Security.Cryptography;
using System.Text;
using Smc.Core.Ports;
using Smc.Core.Security;

namespace Smc.Core.Services;

/// <summary>
/// Per-job RSA-3072 key pairs: the public half goes to the agent (it wraps each round's data key), the
/// private half is sealed with the master key and kept in the key index; it never leaves an activity.
/// </summary>
public sealed class JobKeys(IKeyIndex keys, MasterKey master)
{
    private const string Scope = "job-key";
    private const string FingerprintScope = "job-fingerprint-key";

    /// <summary>The job's public key (SubjectPublicKeyInfo, base64), made on first use. Idempotent and race-safe.</summary>
    public async Task<string> EnsurePublicKeyAsync(string jobId, CancellationToken cancellationToken = default)
    {
        string? held = await keys.GetAsync(Scope, jobId, cancellationToken);
        if (held is null)
        {
            using var rsa = RSA.Create(3072);
            byte[] sealedPrivate = master.Seal(rsa.ExportPkcs8PrivateKey(), Encoding.UTF8.GetBytes(jobId));
            string value = Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()) + "|" + Convert.ToBase64String(sealedPrivate);
            held = await keys.ClaimAsync(Scope, jobId, value, cancellationToken);
        }

        return held.Split('|')[0];
    }

    /// <summary>Opens the job's private key; the caller disposes it.</summary>
    public async Task<RSA> OpenPrivateKeyAsync(string jobId, CancellationToken cancellationToken = default)
    {
        string held = await keys.GetAsync(Scope, jobId, cancellationToken)
            ?? throw new InvalidOperationException($"Job {jobId} has no key pair.");
        byte[] pkcs8 = master.Open(Convert.FromBase64String(held.Split('|')[1]), Encoding.UTF8.GetBytes(jobId));
        var rsa = RSA.Create();
        try
        {
            rsa.ImportPkcs8PrivateKey(pkcs8, out _);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }

        return rsa;
    }

    /// <summary>
    /// The job's chunk fingerprint key (32 bytes), made on first use and sealed with the master key at rest; the same
    /// for every round, so fingerprints compare across rounds. Idempotent and race-safe.
    /// </summary>
    public async Task<byte[]> EnsureFingerprintKeyAsync(string jobId, CancellationToken cancellationToken = default)
    {
        string? held = await keys.GetAsync(FingerprintScope, jobId, cancellationToken);
        if (held is null)
        {
            byte[] fresh = Smc.Transfer.ChunkFingerprint.NewKey();
            held = await keys.ClaimAsync(FingerprintScope, jobId, Convert.ToBase64String(master.Seal(fresh, FingerprintAad(jobId))), cancellationToken);
            CryptographicOperations.ZeroMemory(fresh);
        }

        return master.Open(Convert.FromBase64String(held), FingerprintAad(jobId));
    }

    public async Task DeleteAsync(string jobId, CancellationToken cancellationToken = default)
    {
        await keys.ReleaseAsync(Scope, jobId, cancellationToken: cancellationToken);
        await keys.ReleaseAsync(FingerprintScope, jobId, cancellationToken: cancellationToken);
    }

    private static byte[] FingerprintAad(string jobId) => Encoding.UTF8.GetBytes("fingerprint-key:" + jobId);
}
