using System.Security.Cryptography;
using System.Text;
using Smc.Core.Ports;
using Smc.Core.Security;

namespace Smc.Core.Services;

/// <summary>
/// Per-job RSA-3072 key pairs: the public half goes to the agent (it wraps each round's data key), the
/// private half is sealed with the master key and kept in the key index; it never leaves an activity.
/// </summary>
/// <remarks>
/// Making an RSA-3072 pair costs ~0.8 s of a core (OpenSSL's prime search; measured in docs/performance.md), on the
/// first round's path of every job: 50 jobs started at once waited 40 s of CPU for their keys. So housekeeping keeps
/// <see cref="Options.SecurityOptions.JobKeySpares"/> spare pairs made ahead (sealed with the master key like a job's,
/// under their own associated data), and a job takes one when it has none. A spare is taken by claiming its marker
/// (an insert, so two jobs never get the same pair); the job's own key is then claimed as before, and the spare and
/// its marker deleted, in that order. A taker that dies between those steps leaves a marked spare: its job takes it again on retry,
/// or housekeeping deletes it once the job holds a key.
/// </remarks>
public sealed class JobKeys(IKeyIndex keys, MasterKey master)
{
    private const string Scope = "job-key";
    private const string FingerprintScope = "job-fingerprint-key";
    private const string SpareScope = "job-key-spare";
    private const string SpareTakenScope = "job-key-spare-taken";

    /// <summary>The job's public key (SubjectPublicKeyInfo, base64), made on first use. Idempotent and race-safe.</summary>
    public async Task<string> EnsurePublicKeyAsync(string jobId, CancellationToken cancellationToken = default)
    {
        string? held = await keys.GetAsync(Scope, jobId, cancellationToken);
        if (held is null)
        {
            (string? spareId, string? value) = await TakeSpareAsync(jobId, cancellationToken);
            if (value is null)
            {
                using var rsa = RSA.Create(3072);
                value = Pair(rsa, Encoding.UTF8.GetBytes(jobId));
            }

            held = await keys.ClaimAsync(Scope, jobId, value, cancellationToken);
            if (spareId is not null)
            {
                await keys.ReleaseAsync(SpareScope, spareId, cancellationToken: cancellationToken);
                await keys.ReleaseAsync(SpareTakenScope, spareId, cancellationToken: cancellationToken);
            }
        }

        return held.Split('|')[0];
    }

    /// <summary>
    /// Makes spare pairs until <paramref name="target"/> are free, at most <paramref name="most"/> in one call (each
    /// ~0.8 s of a core); returns how many it made. The standalone host makes them on a low-priority thread instead
    /// (<see cref="SparesWantedAsync"/>, <see cref="NewPair"/>, <see cref="AddSpareAsync"/>).
    /// </summary>
    public async Task<int> FillSparesAsync(int target, int most, CancellationToken cancellationToken = default)
    {
        int wanted = Math.Min(most, await SparesWantedAsync(target, cancellationToken));
        for (int i = 0; i < wanted; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using RSA rsa = NewPair();
            await AddSpareAsync(rsa, cancellationToken);
        }

        return Math.Max(0, wanted);
    }

    /// <summary>
    /// How many spares are missing from <paramref name="target"/> (0 or more); deletes, on the way, spares whose taker
    /// died after its job got a key.
    /// </summary>
    public async Task<int> SparesWantedAsync(int target, CancellationToken cancellationToken = default)
    {
        Dictionary<string, string> taken = await TakenAsync(cancellationToken);
        int free = 0;
        await foreach (KeyValuePair<string, string> spare in keys.ListAsync(SpareScope, cancellationToken))
        {
            if (!taken.TryGetValue(spare.Key, out string? jobId))
            {
                free++;
            }
            else if (await keys.GetAsync(Scope, jobId, cancellationToken) is not null)
            {
                // Its taker died after claiming its key (this spare's or a racing one): the spare is spent.
                await keys.ReleaseAsync(SpareScope, spare.Key, cancellationToken: cancellationToken);
                await keys.ReleaseAsync(SpareTakenScope, spare.Key, jobId, cancellationToken);
            }
        }

        return Math.Max(0, target - free);
    }

    /// <summary>A new RSA-3072 pair, its primes found now (on the calling thread: the CPU-heavy part).</summary>
    public static RSA NewPair()
    {
        var rsa = RSA.Create(3072);
        _ = rsa.ExportSubjectPublicKeyInfo();
        return rsa;
    }

    /// <summary>Keeps <paramref name="rsa"/> as a spare pair, sealed with the master key.</summary>
    public Task AddSpareAsync(RSA rsa, CancellationToken cancellationToken = default)
    {
        string spareId = Guid.NewGuid().ToString("N");
        return keys.SetAsync(SpareScope, spareId, Pair(rsa, SpareAad(spareId)), cancellationToken);
    }

    /// <summary>Spare pairs not taken (for the operator's view and the tests).</summary>
    public async Task<int> CountSparesAsync(CancellationToken cancellationToken = default)
    {
        Dictionary<string, string> taken = await TakenAsync(cancellationToken);
        int free = 0;
        await foreach (KeyValuePair<string, string> spare in keys.ListAsync(SpareScope, cancellationToken))
        {
            free += taken.ContainsKey(spare.Key) ? 0 : 1;
        }

        return free;
    }

    /// <summary>The spares' take markers: spare id → the job that claimed it.</summary>
    private async Task<Dictionary<string, string>> TakenAsync(CancellationToken cancellationToken)
    {
        var taken = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (KeyValuePair<string, string> marker in keys.ListAsync(SpareTakenScope, cancellationToken))
        {
            taken[marker.Key] = marker.Value;
        }

        return taken;
    }

    /// <summary>A spare pair for <paramref name="jobId"/>, sealed for it, or nothing when none is free.</summary>
    private async Task<(string? SpareId, string? Value)> TakeSpareAsync(string jobId, CancellationToken cancellationToken)
    {
        await foreach (KeyValuePair<string, string> spare in keys.ListAsync(SpareScope, cancellationToken))
        {
            // The claim is the take: an insert, so of two jobs reaching for one spare only one gets it (or this job
            // again, after a retry).
            if (await keys.ClaimAsync(SpareTakenScope, spare.Key, jobId, cancellationToken) != jobId)
            {
                continue;
            }

            // Read again under the claim: the listing may be older than another job's whole take, which deletes the
            // spare before its marker, so a marker claimed anew finds no spare.
            string? value = await keys.GetAsync(SpareScope, spare.Key, cancellationToken);
            if (value is null)
            {
                await keys.ReleaseAsync(SpareTakenScope, spare.Key, jobId, cancellationToken);
                continue;
            }

            string[] parts = value.Split('|');
            byte[] pkcs8 = master.Open(Convert.FromBase64String(parts[1]), SpareAad(spare.Key));
            try
            {
                return (spare.Key, parts[0] + "|" + Convert.ToBase64String(master.Seal(pkcs8, Encoding.UTF8.GetBytes(jobId))));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pkcs8);
            }
        }

        return (null, null);
    }

    private string Pair(RSA rsa, byte[] aad)
    {
        byte[] pkcs8 = rsa.ExportPkcs8PrivateKey();
        try
        {
            return Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()) + "|" + Convert.ToBase64String(master.Seal(pkcs8, aad));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private static byte[] SpareAad(string spareId) => Encoding.UTF8.GetBytes("job-key-spare:" + spareId);

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
