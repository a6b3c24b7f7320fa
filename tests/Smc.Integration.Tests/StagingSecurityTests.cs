using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Azure.Data.Tables.Models;
using Azure.Storage.Blobs;
using Smc.Integration.Tests.Infrastructure;
using Smc.Wire.Staging;

namespace Smc.Integration.Tests;

/// <summary>What is staged is trusted only as far as it checks out: altered chunks, moved chunks and edited manifests make no image.</summary>
public sealed class StagingSecurityTests(PrivateControlPlaneFixture fx) : IClassFixture<PrivateControlPlaneFixture>
{
    [Fact]
    public async Task HonestRound_ImageEqualsSourceDisk()
    {
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(fx.Control, seed: 1);
        await agent.StartJobAsync();
        (await agent.CommitAsync(await agent.UploadRoundAsync())).Expect(HttpStatusCode.Accepted);
        JsonNode job = await agent.WaitForEndAsync();
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString());
        string imageId = job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();

        Assert.Equal(agent.Disk, await DownloadDiskAsync(imageId));

        // A ranged read, and the fixed-VHD form: the same bytes plus a 512-byte "conectix" footer.
        using var ranged = new HttpRequestMessage(HttpMethod.Get, $"{fx.Control.Url}/api/v1/images/{imageId}/disks/0?format=vhd");
        ranged.Headers.Add("x-functions-key", ControlPlane.OperatorKey);
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(ProtocolAgent.DiskSize - 16, ProtocolAgent.DiskSize + 7);
        using var http = new HttpClient();
        HttpResponseMessage partial = await http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        byte[] tail = await partial.Content.ReadAsByteArrayAsync();
        Assert.Equal(agent.Disk[^16..], tail[..16]);
        Assert.Equal("conectix"u8.ToArray(), tail[16..]);
    }

    [Theory]
    [InlineData(Alteration.FlippedBit, "StagingIntegrity.ChunkTampered", "offset 2097152")]
    [InlineData(Alteration.MovedChunk, "StagingIntegrity.ChunkMismatch", "offset 1048576")]
    [InlineData(Alteration.SealedForAnotherJob, "StagingIntegrity.ChunkTampered", "offset 1048576")]
    [InlineData(Alteration.SealedForAnotherRound, "StagingIntegrity.ChunkMismatch", "offset 1048576")]
    [InlineData(Alteration.ManifestEditedAfterCommit, "StagingIntegrity.ManifestChanged", "changed after it was committed")]
    [InlineData(Alteration.HugeStoredLength, "StagingIntegrity.ChunkOutOfBounds", "offset 2097152")]
    [InlineData(Alteration.PositionPastThePack, "StagingIntegrity.ChunkOutOfBounds", "offset 3145728")]
    [InlineData(Alteration.ExabyteDisk, "StagingIntegrity.DiskUnknown", "never reported")]
    public async Task AlteredStaging_InErrorNamingTheChunkAndNoImage(Alteration alteration, string code, string named)
    {
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(fx.Control, seed: (int)alteration + 10);
        await agent.StartJobAsync();
        (await agent.CommitAsync(await agent.UploadRoundAsync(alteration))).Expect(HttpStatusCode.Accepted);
        JsonNode job = await agent.WaitForEndAsync();
        Assert.Equal("InError", job["status"]!.GetValue<string>());
        Assert.Equal(code, job["errorCode"]!.GetValue<string>());
        Assert.Contains(named, job["statusInfo"]!["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, (await fx.Control.Operator().GetAsync($"/api/v1/images?jobId={agent.JobId}")).Json["totalCount"]!.GetValue<int>());
    }

    /// <summary>
    /// An incremental round leaves chunks 1 and 2 out as unchanged: the image takes them from the base round's image (and
    /// chunk 0, changed, from this round); a chunk listed as unchanged whose fingerprint is not the base round's makes no
    /// image. The control plane merges the round's chunks with the base's fingerprints and disk map, both read as streams.
    /// </summary>
    [Theory]
    [InlineData(Alteration.UnchangedSinceBase, null)]
    [InlineData(Alteration.ForgedUnchanged, "StagingIntegrity.BaseMismatch")]
    public async Task IncrementalRound_UnchangedChunksComeFromTheBase_AForgedOneMakesNoImage(Alteration alteration, string? code)
    {
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(fx.Control, seed: (int)alteration + 40);
        ApiClient op = fx.Control.Operator();
        await agent.StartJobAsync(new { runOnce = false, syncInterval = "PT1H" });
        (await agent.CommitAsync(await agent.UploadRoundAsync())).Expect(HttpStatusCode.Accepted);
        await op.WaitForAsync($"/api/v1/replication-jobs/{agent.JobId}", j => j["status"]!.GetValue<string>() == "Waiting", TimeSpan.FromSeconds(90));
        byte[] round0 = agent.Disk.ToArray();
        agent.Disk.AsSpan(100, 4000).Fill(0x5a); // chunk 0 changes; chunks 1 and 2 don't

        (await op.PostAsync($"/api/v1/replication-jobs/{agent.JobId}/start")).Expect(HttpStatusCode.Accepted);
        await agent.AwaitCommandAsync(1);
        Assert.Equal(0, agent.Command["baseRound"]!.GetValue<int>());
        (await agent.CommitAsync(await agent.UploadRoundAsync(alteration))).Expect(HttpStatusCode.Accepted);
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{agent.JobId}",
            j => j["status"]!.GetValue<string>() is "InError" || (j["status"]!.GetValue<string>() == "Waiting" && j["replicationJobRuns"]!.AsArray().Any(r => r!["round"]!.GetValue<int>() == 1 && r["endTime"] is not null)),
            TimeSpan.FromSeconds(90));
        JsonNode? run1 = job["replicationJobRuns"]!.AsArray().FirstOrDefault(r => r!["round"]!.GetValue<int>() == 1);
        if (code is not null)
        {
            Assert.True(job["status"]!.GetValue<string>() == "InError", job.ToJsonString());
            Assert.Equal(code, job["errorCode"]!.GetValue<string>());
            Assert.Contains("offset 2097152", job["statusInfo"]!["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.True(run1?["imageId"] is null, job.ToJsonString());
            return;
        }

        Assert.True(job["status"]!.GetValue<string>() == "Waiting", job.ToJsonString());
        Assert.Equal(2L << 20, run1!["changedBytes"]!.GetValue<long>());
        Assert.Equal(agent.Disk, await DownloadDiskAsync(run1["imageId"]!.GetValue<string>()));
        Assert.NotEqual(round0, agent.Disk);
    }

    /// <summary>
    /// A commit marker of 1.5 GB (written by a hostile agent through its SAS): the control plane reads no more than its
    /// cap of it, refuses the commit with its code and ends the round InError; its own memory doesn't follow the blob.
    /// (A storage emulator of its own, on disk: the shared one keeps blobs in memory.)
    /// </summary>
    [Fact]
    public async Task HugeCommitMarker_RoundInErrorWithItsCode_ControlPlaneMemoryFlat()
    {
        using Azurite azurite = await Azurite.StartAsync(fx.Box.File("azurite-huge"));
        using ControlPlane control = await ControlPlane.StartAsync(azurite.ConnectionString);
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(control, seed: 170);
        await agent.StartJobAsync();
        string sha = await agent.UploadRoundAsync();
        const long size = 384L << 20; // 6,144 × the 64 KiB cap; read whole it would take ≥ 384 MiB, over the bound below
        await using (var huge = new RepeatingStream(size))
        {
            await agent.Staging.GetBlobClient(StagingNames.Commit(agent.Round)).UploadAsync(huge, overwrite: true);
        }

        long before = control.ResidentBytes();
        (await agent.CommitAsync(sha)).ExpectProblem(HttpStatusCode.BadRequest, "StagingIntegrity.CommitTooLarge");
        JsonNode job = await agent.WaitForEndAsync();
        Assert.Equal("InError", job["status"]!.GetValue<string>());
        Assert.Equal("StagingIntegrity.CommitTooLarge", job["errorCode"]!.GetValue<string>());
        long grew = control.ResidentBytes() - before;
        Assert.True(grew < 256L << 20, $"the control plane grew by {grew >> 20} MiB while refusing a {size >> 20} MiB marker");
    }

    /// <summary>A read-only stream of <c>{</c> bytes of a given length, made as it is read (no buffer of that size).</summary>
    private sealed class RepeatingStream(long length) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = (int)Math.Min(count, length - Position);
            buffer.AsSpan(offset, n).Fill((byte)'{');
            Position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public async Task FailedIncrementalRound_LeavesThePreviousImageAsItWas()
    {
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(fx.Control, seed: 6);
        ApiClient op = fx.Control.Operator();
        await agent.StartJobAsync(new { runOnce = false, syncInterval = "PT1H" });
        string path = $"/api/v1/replication-jobs/{agent.JobId}";
        (await agent.CommitAsync(await agent.UploadRoundAsync())).Expect(HttpStatusCode.Accepted);
        JsonNode waiting = await op.WaitForAsync(path, j => j["status"]!.GetValue<string>() is "Waiting" or "InError", TimeSpan.FromSeconds(90));
        Assert.True(waiting["status"]!.GetValue<string>() == "Waiting", waiting.ToJsonString());
        string round0 = waiting["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();
        byte[] before = (byte[])agent.Disk.Clone();

        // Round 1 changes every chunk of the source, and one of its staged chunks is altered: assembly refuses the round,
        // and round 0's image is not touched.
        for (int i = 0; i < agent.Disk.Length; i += 4096)
        {
            agent.Disk[i] ^= 0xA5;
        }

        (await op.PostAsync($"{path}/start")).Expect(HttpStatusCode.Accepted);
        await agent.AwaitCommandAsync(1);
        (await agent.CommitAsync(await agent.UploadRoundAsync(Alteration.FlippedBit))).Expect(HttpStatusCode.Accepted);
        JsonNode failed = await agent.WaitForEndAsync();
        Assert.Equal("StagingIntegrity.ChunkTampered", failed["errorCode"]!.GetValue<string>());
        JsonArray images = (await op.GetAsync($"/api/v1/images?jobId={agent.JobId}")).Json["images"]!.AsArray();
        Assert.Equal([round0], images.Select(i => i!["imageId"]!.GetValue<string>()).ToArray());
        Assert.Equal(before, await DownloadDiskAsync(round0));
    }

    [Fact]
    public async Task KeyMaterial_NeverInTheLogOrTheOrchestrationHistory()
    {
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(fx.Control, seed: 7);
        await agent.StartJobAsync();
        (await agent.CommitAsync(await agent.UploadRoundAsync())).Expect(HttpStatusCode.Accepted);
        Assert.Equal("Finished", (await agent.WaitForEndAsync())["status"]!.GetValue<string>());

        // Everything the control plane wrote: its log, every table (orchestration history and instances, the records),
        // and the task hub's large-message blobs.
        var texts = new List<string> { fx.Control.Process.Output };
        var tables = new TableServiceClient(fx.Storage.ConnectionString);
        var scanned = new List<string>();
        await foreach (TableItem table in tables.QueryAsync())
        {
            scanned.Add(table.Name);
            await foreach (TableEntity row in tables.GetTableClient(table.Name).QueryAsync<TableEntity>())
            {
                texts.AddRange(row.Select(p => p.Value).OfType<string>());
            }
        }

        var blobs = new BlobServiceClient(fx.Storage.ConnectionString);
        await foreach (Azure.Storage.Blobs.Models.BlobContainerItem container in blobs.GetBlobContainersAsync())
        {
            if (container.Name.Contains("largemessages", StringComparison.Ordinal))
            {
                BlobContainerClient messages = blobs.GetBlobContainerClient(container.Name);
                await foreach (Azure.Storage.Blobs.Models.BlobItem blob in messages.GetBlobsAsync())
                {
                    // Durable Task keeps large messages gzip-compressed (*.json.gz).
                    BinaryData content = (await messages.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content;
                    using var reader = new StreamReader(blob.Name.EndsWith(".gz", StringComparison.Ordinal)
                        ? new System.IO.Compression.GZipStream(content.ToStream(), System.IO.Compression.CompressionMode.Decompress)
                        : content.ToStream());
                    texts.Add(await reader.ReadToEndAsync());
                }
            }
        }

        string all = string.Join('\n', texts).Replace("\\u002B", "+", StringComparison.Ordinal).Replace("\\/", "/", StringComparison.Ordinal);
        Assert.Contains(scanned, t => t.EndsWith("History", StringComparison.Ordinal)); // the scan saw the history, with this job in it
        Assert.Contains(agent.JobId, all, StringComparison.Ordinal);
        string sig = System.Web.HttpUtility.ParseQueryString(agent.StagingUrl.Query)["sig"]!;
        var secrets = new Dictionary<string, string>
        {
            ["data key (base64)"] = Convert.ToBase64String(agent.LastDataKey),
            ["data key (hex)"] = Convert.ToHexStringLower(agent.LastDataKey),
            ["fingerprint key (base64)"] = Convert.ToBase64String(agent.FingerprintKey),
            ["fingerprint key (hex)"] = Convert.ToHexStringLower(agent.FingerprintKey),
            ["agent credential"] = agent.Credential,
            ["staging SAS signature"] = sig,
            ["staging SAS signature (URL-encoded)"] = Uri.EscapeDataString(sig),
            ["operator key"] = ControlPlane.OperatorKey,
        };
        foreach (var (what, secret) in secrets)
        {
            Assert.False(all.Contains(secret, StringComparison.OrdinalIgnoreCase), $"{what} found in what the control plane stored or logged");
        }

        // No RSA private key in the clear: every long base64 run is tried as one (the job's key is kept sealed).
        Assert.DoesNotContain("PRIVATE KEY", all, StringComparison.Ordinal);
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(all, "[A-Za-z0-9+/]{600,}={0,2}"))
        {
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(m.Value);
            }
            catch (FormatException)
            {
                continue;
            }

            using RSA rsa = RSA.Create();
            Assert.False(TryImportPrivate(rsa, bytes), "an RSA private key in the clear in what the control plane stored or logged");
        }
    }

    private static bool TryImportPrivate(RSA rsa, byte[] der)
    {
        try
        {
            rsa.ImportPkcs8PrivateKey(der, out _);
            return true;
        }
        catch (CryptographicException)
        {
        }

        try
        {
            rsa.ImportRSAPrivateKey(der, out _);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Commit_WithoutMarkerOrWithAnotherHash_Refused()
    {
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(fx.Control, seed: 3);
        await agent.StartJobAsync();
        (await agent.CommitAsync(new string('0', 64))).ExpectProblem(HttpStatusCode.BadRequest, "InvalidCommit.MarkerMissing");
        await agent.UploadRoundAsync();
        (await agent.CommitAsync(new string('0', 64))).ExpectProblem(HttpStatusCode.BadRequest, "InvalidCommit.ManifestMismatch");
        (await agent.Agent.PostAsync($"/api/v1/agent/jobs/{agent.JobId}/rounds/7/commit", new { manifestSha256 = "x" })).ExpectProblem(HttpStatusCode.Conflict, "OperationDenied.Round");
    }

    [Fact]
    public async Task StagingSas_CannotReadListOrWriteOutsideItsJob()
    {
        ProtocolAgent a = await ProtocolAgent.RegisterAsync(fx.Control, seed: 4);
        ProtocolAgent b = await ProtocolAgent.RegisterAsync(fx.Control, seed: 5);
        await a.StartJobAsync();
        await b.StartJobAsync();
        await a.Staging.GetBlobClient("r000000/probe").UploadAsync(new BinaryData("x"u8.ToArray()));

        await AssertForbidden(() => a.Staging.GetBlobClient("r000000/probe").DownloadContentAsync());
        await AssertForbidden(async () =>
        {
            // The first page is the list call (no LINQ: System.Linq.Async, which Durable Task brings, makes FirstAsync ambiguous).
            await using IAsyncEnumerator<Azure.Page<Azure.Storage.Blobs.Models.BlobItem>> pages = a.Staging.GetBlobsAsync().AsPages().GetAsyncEnumerator();
            await pages.MoveNextAsync();
        });
        var sasForOther = new BlobContainerClient(new UriBuilder(a.Staging.Uri) { Path = a.Staging.Uri.AbsolutePath.Replace(a.Staging.Name, b.Staging.Name, StringComparison.Ordinal) }.Uri);
        await AssertForbidden(() => sasForOther.GetBlobClient("r000000/intruder").UploadAsync(new BinaryData("x"u8.ToArray())));

        // The agent of one source can't get staging for another source's job.
        (await a.Agent.PostAsync($"/api/v1/agent/jobs/{b.JobId}/staging-credentials")).ExpectProblem(HttpStatusCode.NotFound, "InvalidJobId.NotFound");
    }

    private static async Task AssertForbidden(Func<Task> call)
    {
        RequestFailedException e = await Assert.ThrowsAsync<RequestFailedException>(call);
        Assert.Equal(403, e.Status);
    }

    private async Task<byte[]> DownloadDiskAsync(string imageId)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{fx.Control.Url}/api/v1/images/{imageId}/disks/0");
        request.Headers.Add("x-functions-key", ControlPlane.OperatorKey);
        using HttpResponseMessage response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }
}
