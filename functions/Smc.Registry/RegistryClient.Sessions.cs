using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Smc.Registry;

/// <summary>
/// A blob's upload session: started, fed chunk by chunk (PATCH with Content-Range), and after a failure resumed from the
/// offset the registry reports for it — or started over when the registry lost it — within the bounds of a
/// <see cref="StallGuard"/>.
/// </summary>
public sealed partial class RegistryClient
{
    private static async Task<int> ReadFullyAsync(Func<long, Memory<byte>, CancellationToken, ValueTask<int>> read, long offset, Memory<byte> buffer, CancellationToken ct)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await read(offset + total, buffer[total..], ct);
            if (n <= 0)
            {
                throw new EndOfStreamException($"The blob ended at {offset + total} bytes, before its size.");
            }

            total += n;
        }

        return total;
    }

    private async Task<string> StartUploadAsync(string repository, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(async ct =>
        {
            using HttpResponseMessage response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, Url($"/v2/{repository}/blobs/uploads/")), Scope(repository), ct);
            if (response.StatusCode != HttpStatusCode.Accepted || response.Headers.Location is null)
            {
                throw await ErrorAsync(response, ct);
            }

            return response.Headers.Location.ToString();
        }, cancellationToken);

    private async Task<string> PatchAsync(string repository, string location, long offset, ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(() =>
        {
            var content = new ReadOnlyMemoryContent(chunk);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{offset + chunk.Length - 1}");
            return new HttpRequestMessage(HttpMethod.Patch, Resolve(location)) { Content = content };
        }, Scope(repository), cancellationToken);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw await ErrorAsync(response, cancellationToken);
        }

        return response.Headers.Location?.ToString() ?? location;
    }

    /// <summary>Where an upload stands after a failure: the session's next offset (from its <c>Range</c>), or a new session at 0.</summary>
    private async Task<(string Location, long Offset)> RecoverAsync(string repository, string location, Exception failure, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(async ct =>
        {
            if (failure is RegistryException { Status: 416 })
            {
                // The session and this client disagree on its length: a new session, from the start.
                return (await StartUploadAsync(repository, ct), 0L);
            }

            using HttpResponseMessage status = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, Resolve(location)), Scope(repository), ct);
            if (status.StatusCode == HttpStatusCode.NoContent)
            {
                long next = 0;
                if (status.Headers.TryGetValues("Range", out IEnumerable<string>? ranges) && ranges.First().Split('-') is [_, string end]
                    && long.TryParse(end, NumberStyles.None, CultureInfo.InvariantCulture, out long last))
                {
                    // "0-0" is what distribution answers for an empty session too; a chunk is never 1 byte unless the blob is.
                    next = last == 0 ? 0 : last + 1;
                }

                return (status.Headers.Location?.ToString() ?? location, next);
            }

            if (status.StatusCode == HttpStatusCode.NotFound)
            {
                return (await StartUploadAsync(repository, ct), 0L);
            }

            throw await ErrorAsync(status, ct);
        }, cancellationToken);

    /// <summary>
    /// Bounds the recoveries of one blob's upload: after <see cref="_recoveryAttempts"/> failed chunks in a row, or
    /// <see cref="StallLimit"/> without a chunk accepted, the push ends with <c>PUSH_STALLED</c>. Between two attempts it
    /// waits as the other retries do (exponential from the first delay, at most <see cref="MaxDelay"/>).
    /// </summary>
    private sealed class StallGuard(RegistryClient client)
    {
        private int _inRow;
        private long _since = System.Diagnostics.Stopwatch.GetTimestamp();

        public void Progressed()
        {
            _inRow = 0;
            _since = System.Diagnostics.Stopwatch.GetTimestamp();
        }

        public async Task FailedAsync(Exception failure, long offset, CancellationToken ct)
        {
            _inRow++;
            TimeSpan stalled = System.Diagnostics.Stopwatch.GetElapsedTime(_since);
            if (_inRow > client._recoveryAttempts || stalled > client.StallLimit)
            {
                throw new RegistryException(failure is RegistryException r ? r.Status : 0, "PUSH_STALLED",
                    $"The registry failed {_inRow} chunk uploads in a row at byte {offset} over {stalled.TotalSeconds:F0} s (last: {failure.Message}); the push stops here.",
                    userError: false, failure);
            }

            double wait = Math.Min(client._firstDelay.TotalMilliseconds * Math.Pow(2, _inRow - 1), MaxDelay.TotalMilliseconds);
            await Task.Delay(TimeSpan.FromMilliseconds(wait), ct);
        }
    }
}
