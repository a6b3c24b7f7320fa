using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Polly;
using Polly.Retry;
using Smc.Wire.Agent;

namespace Smc.Agent.Replication;

/// <summary>Where a round's blobs go: the job's staging container, or a counting sink in the benchmark.</summary>
internal interface IStagingSink
{
    /// <summary>Stores <paramref name="length"/> bytes of <paramref name="content"/> as <paramref name="blobName"/> (replacing it).</summary>
    Task PutAsync(string blobName, byte[] content, int length, CancellationToken cancellationToken);

    /// <summary>Stores a file (the manifest) as <paramref name="blobName"/>.</summary>
    Task PutFileAsync(string blobName, string path, CancellationToken cancellationToken);
}

/// <summary>
/// Uploads to the job's staging container with the short-lived SAS the control plane hands out, under one retry
/// policy (Polly): a storage service that is down, restarting or answering 5xx/408/429, and a connection reset
/// mid-request, are waited out with exponential back-off (2 s doubling to 30 s, about 12 minutes in all) — the round
/// goes on where it was instead of failing; an expired or revoked SAS (403) is renewed once or twice. Every upload
/// is a whole-blob PUT of content the agent still holds, so it can be sent again as often as needed.
/// </summary>
internal sealed class StagingUploader : IStagingSink
{
    /// <summary>Attempts per blob: 1 + 29 retries, the last ones 30 s apart.</summary>
    internal const int MaxAttempts = 30;

    private readonly Func<CancellationToken, Task<StagingCredentials>> _fetchCredentials;
    private readonly Action<string> _log;
    private readonly ResiliencePipeline _retry;
    private readonly TimeSpan? _firstDelay;
    private readonly Lock _gate = new();
    private volatile Session? _session;
    private Task<Session>? _renewal;

    /// <param name="fetchCredentials">Asks the control plane for the job's staging SAS.</param>
    /// <param name="log">Where each retry is noted.</param>
    /// <param name="firstDelay">The first wait (2 s, and the SDK's own 0.8 s; tests shorten both).</param>
    public StagingUploader(Func<CancellationToken, Task<StagingCredentials>> fetchCredentials, Action<string> log, TimeSpan? firstDelay = null)
    {
        _fetchCredentials = fetchCredentials;
        _log = log;
        _firstDelay = firstDelay;
        _retry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && !args.Context.CancellationToken.IsCancellationRequested
                && (IsTransient(e) || (IsRefused(e) && args.AttemptNumber < 2))),
            MaxRetryAttempts = MaxAttempts - 1,
            BackoffType = DelayBackoffType.Exponential,
            Delay = firstDelay ?? TimeSpan.FromSeconds(2),
            MaxDelay = TimeSpan.FromSeconds(30),
            UseJitter = true,
            OnRetry = args =>
            {
                Exception e = args.Outcome.Exception!;
                if (IsRefused(e))
                {
                    _session = null; // expired SAS: ask for a new one
                }

                string blob = args.Context.Properties.TryGetValue(BlobKey, out string? name) ? name : "?";
                _log($"upload of {blob} failed ({Describe(e)}); retry {args.AttemptNumber + 1} in {args.RetryDelay.TotalSeconds:0.#} s");
                return ValueTask.CompletedTask;
            },
        }).Build();
    }

    private static readonly ResiliencePropertyKey<string> BlobKey = new("blob");

    /// <summary>The job's staging credentials, fetched on first use and again 5 minutes before they expire.</summary>
    public async Task<StagingCredentials> CredentialsAsync(CancellationToken cancellationToken) => (await SessionAsync(cancellationToken)).Credentials;

    public Task PutAsync(string blobName, byte[] content, int length, CancellationToken cancellationToken) =>
        UploadAsync(blobName, () => new MemoryStream(content, 0, length, writable: false), cancellationToken);

    public Task PutFileAsync(string blobName, string path, CancellationToken cancellationToken) =>
        UploadAsync(blobName, () => File.OpenRead(path), cancellationToken);

    /// <summary>Uploads in 8 MiB blocks, two at a time (the SDK's default would send up to 256 MiB in one request).</summary>
    private async Task UploadAsync(string blobName, Func<Stream> content, CancellationToken cancellationToken)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(BlobKey, blobName);
        try
        {
            await _retry.ExecuteAsync(async ctx =>
            {
                Session session = await SessionAsync(ctx.CancellationToken);
                await using Stream body = content();
                await session.Container.GetBlockBlobClient(blobName).UploadAsync(body, new BlobUploadOptions
                {
                    TransferOptions = new Azure.Storage.StorageTransferOptions { InitialTransferSize = 8 << 20, MaximumTransferSize = 8 << 20, MaximumConcurrency = 2 },
                }, ctx.CancellationToken);
            }, context);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private Task<Session> SessionAsync(CancellationToken cancellationToken)
    {
        if (_session is { } current && Fresh(current))
        {
            return Task.FromResult(current);
        }

        // One renewal for all the upload streams that find the SAS missing or expiring at once.
        lock (_gate)
        {
            if (_renewal is null || _renewal.IsCompleted)
            {
                _renewal = RenewAsync(cancellationToken);
            }

            return _renewal;
        }
    }

    private async Task<Session> RenewAsync(CancellationToken cancellationToken)
    {
        StagingCredentials credentials = await _fetchCredentials(cancellationToken);
        // The SDK's own retries stay few and quick (a dropped connection in one block of a file); this class's policy is
        // the one that waits out an outage.
        var session = new Session(credentials, new BlobContainerClient(new Uri(credentials.ContainerUrl), new BlobClientOptions { Retry = { MaxRetries = 2 } }));
        _session = session;
        return session;
    }

    private static bool Fresh(Session session) => session.Credentials.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(5);

    /// <summary>
    /// A failure that may pass by itself: the service unreachable or restarting (connection refused or reset, the
    /// SDK's "Retry failed after 3 tries" around such errors), a timeout, throttling or a 5xx.
    /// </summary>
    internal static bool IsTransient(Exception e) => e switch
    {
        RequestFailedException r => r.Status is 0 or 408 or 429 or >= 500,
        HttpRequestException or IOException or TimeoutException => true,
        // A timeout of the SDK's own (the caller's cancellation is checked before this).
        OperationCanceledException => true,
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(IsTransient),
        _ => false,
    };

    private static bool IsRefused(Exception e) => e is RequestFailedException { Status: 403 };

    private static string Describe(Exception e)
    {
        Exception inner = e is AggregateException { InnerExceptions.Count: > 0 } a ? a.InnerExceptions[^1] : e;
        return $"{inner.GetType().Name}: {inner.Message.Split('\n')[0]}";
    }

    private sealed record Session(StagingCredentials Credentials, BlobContainerClient Container);
}
