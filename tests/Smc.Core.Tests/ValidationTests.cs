using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Security;
using Smc.Core.Services;

namespace Smc.Core.Tests;

public sealed class ValidationTests
{
    [Theory]
    [InlineData("PT5M", 300)]
    [InlineData("PT1H", 3600)]
    [InlineData("P1D", 86400)]
    [InlineData("P7D", 604800)]
    [InlineData("P1DT12H", 129600)]
    public void SyncInterval_InRange_Parsed(string value, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), SyncInterval.Parse(value));

    [Theory]
    [InlineData("PT4M59S")]
    [InlineData("P7DT1S")]
    [InlineData("P1M")]
    [InlineData("P1Y")]
    [InlineData("-PT1H")]
    [InlineData("1h")]
    [InlineData("")]
    [InlineData(null)]
    public void SyncInterval_OutOfRangeOrNotIso_InvalidFrequency(string? value)
    {
        SmcException e = Assert.Throws<SmcException>(() => SyncInterval.Parse(value));
        Assert.Equal(ErrorCodes.InvalidFrequency, e.Code);
        Assert.Equal(400, e.Status);
    }

    [Fact]
    public void Ids_New_WellFormedAndDistinct()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => Ids.New(Ids.JobPrefix)).ToList();
        Assert.All(ids, id => Assert.True(Ids.IsWellFormed(id, Ids.JobPrefix), id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.False(Ids.IsWellFormed(ids[0], Ids.SourcePrefix));
        Assert.False(Ids.IsWellFormed("j-AAAAAAAAAAAAAAAA", Ids.JobPrefix));
        Assert.False(Ids.IsWellFormed("j-' or 1=1 --xxxx", Ids.JobPrefix));
    }

    [Fact]
    public void Secret_HashMatchesAndToStringRedacts()
    {
        Secret s = Secret.New("s-abcdefghijklmnop");
        string hash = s.Hash();
        Assert.True(Secret.Parse(s.Reveal())!.Matches(hash));
        Assert.False(Secret.Parse(s.Reveal() + "x")!.Matches(hash));
        Assert.DoesNotContain(s.Reveal().Split('.')[1], s.ToString(), StringComparison.Ordinal);
        Assert.Equal("s-abcdefghijklmnop", s.OwnerId);
        Assert.Null(Secret.Parse("no-dot"));
        Assert.Null(Secret.Parse(".x"));
        Assert.Null(Secret.Parse(new string('a', 600) + ".b"));
    }

    [Fact]
    public void AccessToken_StatusAt_DisabledThenExpiredThenUsedUp()
    {
        DateTimeOffset now = DateTimeOffset.UnixEpoch.AddYears(50);
        var t = new AccessToken { AccessTokenId = "at-x", Name = "n", Count = 2, UsedCount = 2, CreatedAt = now, ExpiresAt = now.AddDays(1) };
        Assert.Equal(AccessTokenStatus.UsedUp, t.StatusAt(now));
        Assert.Equal(AccessTokenStatus.Expired, t.StatusAt(now.AddDays(1)));
        t.Disabled = true;
        Assert.Equal(AccessTokenStatus.Disabled, t.StatusAt(now.AddDays(2)));
        t.Disabled = false;
        t.UsedCount = 1;
        Assert.Equal(AccessTokenStatus.Active, t.StatusAt(now));
    }

    [Theory]
    [InlineData(null, null, 1, 10)]
    [InlineData("3", "50", 3, 50)]
    public void PageRequest_Valid_Parsed(string? number, string? size, int expectedNumber, int expectedSize)
    {
        PageRequest p = PageRequest.Parse(number, size);
        Assert.Equal((expectedNumber, expectedSize), (p.PageNumber, p.PageSize));
        Page<int> page = p.Apply(Enumerable.Range(0, 200).ToList());
        Assert.Equal(200, page.TotalCount);
        Assert.Equal((expectedNumber - 1) * expectedSize, page.Items[0]);
    }

    [Theory]
    [InlineData("0", null, ErrorCodes.InvalidPageNumber)]
    [InlineData("x", null, ErrorCodes.InvalidPageNumber)]
    [InlineData(null, "51", ErrorCodes.InvalidPageSize)]
    [InlineData(null, "0", ErrorCodes.InvalidPageSize)]
    public void PageRequest_Invalid_Refused(string? number, string? size, string code) =>
        Assert.Equal(code, Assert.Throws<SmcException>(() => PageRequest.Parse(number, size)).Code);

    [Fact]
    public void BuildJob_Defaults_SmcDefaultsApplied()
    {
        ReplicationJob job = JobRequests.Build(
            new CreateReplicationJobRequest { SourceId = Ids.New(Ids.SourcePrefix), Name = "web" }, Ids.New(Ids.JobPrefix), DateTimeOffset.UtcNow);
        Assert.Equal((JobStatus.Ready, TargetType.Image, ImageProvider.Local, true, 1), (job.Status, job.TargetType, job.ImageProvider, job.RunOnce, job.MaxNumberOfImageToKeep));
    }

    [Fact]
    public void BuildJob_IncrementalWithInterval_Accepted()
    {
        ReplicationJob job = JobRequests.Build(
            new CreateReplicationJobRequest { SourceId = Ids.New(Ids.SourcePrefix), Name = "web", RunOnce = false, SyncInterval = "PT5M", MaxNumberOfImageToKeep = 10 },
            Ids.New(Ids.JobPrefix), DateTimeOffset.UtcNow);
        Assert.False(job.RunOnce);
        Assert.Equal("PT5M", job.SyncInterval);
    }

    [Fact]
    public void BuildJob_SyncIntervalOnRunOnceJob_InvalidFrequency() =>
        Assert.Equal(ErrorCodes.InvalidFrequency, Assert.Throws<SmcException>(() => JobRequests.Build(
            new CreateReplicationJobRequest { SourceId = Ids.New(Ids.SourcePrefix), Name = "web", SyncInterval = "PT1H" }, "j-x", DateTimeOffset.UtcNow)).Code);

    [Theory]
    [InlineData("Registry.CN-Hangzhou.aliyuncs.com", "registry.cn-hangzhou.aliyuncs.com")]
    [InlineData("10.0.0.5:5000", "10.0.0.5:5000")]
    [InlineData("[::1]:5000", "[::1]:5000")]
    [InlineData("localhost", "localhost")]
    public void RegistryHost_KeepsHostAndPort(string text, string normalized) => Assert.Equal(normalized, RegistryHost.Normalize(text, out _));

    [Theory]
    [InlineData("registry.cn-hangzhou.aliyuncs.com:443@attacker.example")] // user info: the URL's host is attacker.example
    [InlineData("user:pass@registry.example")]
    [InlineData("https://registry.example")]
    [InlineData("registry.example/v2")]
    [InlineData("registry.example?x=1")]
    [InlineData("registry.example#f")]
    [InlineData("registry.example:0")]
    [InlineData("registry.example:65536")]
    [InlineData("registry.example:")]
    [InlineData("-bad.example")]
    [InlineData("a..b")]
    [InlineData("[not-v6]:5000")]
    [InlineData("[::1]x")]
    [InlineData("reg istry.example")]
    [InlineData("")]
    public void RegistryHost_RefusesAnythingButHostAndPort(string text)
    {
        Assert.Null(RegistryHost.Normalize(text, out string? error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Theory]
    [InlineData("aliyun-owner", "x")]
    [InlineData("acs:project", "x")]
    [InlineData("", "x")]
    [InlineData("site", "https://example.com")]
    [InlineData("see http://x", "v")]
    public void Tags_EcsRules_Refused(string key, string value)
    {
        SmcException e = Assert.Throws<SmcException>(() => Tags.Check(new Dictionary<string, string> { [key] = value }));
        Assert.Equal(ErrorCodes.InvalidTag, e.Code);
    }

    [Fact]
    public void Tags_LongKeysAndTooMany_Refused_TwentyAndEmptyValuesAccepted()
    {
        Assert.Equal(ErrorCodes.InvalidTag, Assert.Throws<SmcException>(() => Tags.Check(new Dictionary<string, string> { [new string('k', 129)] = "v" })).Code);
        Assert.Equal(ErrorCodes.InvalidTag, Assert.Throws<SmcException>(() => Tags.Check(Enumerable.Range(0, 21).ToDictionary(i => $"k{i}", _ => "v"))).Code);
        Assert.Equal(20, Tags.Check(Enumerable.Range(0, 20).ToDictionary(i => $"k{i}", _ => ""))!.Count);
        Assert.Null(Tags.Check(null));
    }

    [Fact]
    public void TagFilter_KeyOrKeyValue_AllMustMatch_SplitAtTheFirstColon()
    {
        var tags = new Dictionary<string, string> { ["env"] = "prod", ["app:tier"] = "web", ["url"] = "a:b" };
        Assert.True(TagFilter.Parse(["env"]).Matches(tags));
        Assert.True(TagFilter.Parse(["env:prod", "url:a:b"]).Matches(tags));
        Assert.False(TagFilter.Parse(["env:prod", "team"]).Matches(tags));
        Assert.False(TagFilter.Parse(["env:Prod"]).Matches(tags));
        Assert.False(TagFilter.Parse(["app:tier"]).Matches(tags)); // read as key "app", value "tier": a key holding a colon isn't filterable
        Assert.True(TagFilter.Parse([]).Matches(null));
        Assert.False(TagFilter.Parse(["env"]).Matches(null));
        Assert.Equal(ErrorCodes.InvalidTag, Assert.Throws<SmcException>(() => TagFilter.Parse([":prod"])).Code);
    }

    [Fact]
    public void Tags_Merge_LaterLayerWins()
    {
        Dictionary<string, string> merged = Tags.Merge(new Dictionary<string, string> { ["env"] = "staging", ["dc"] = "fra1" }, null, new Dictionary<string, string> { ["env"] = "prod" });
        Assert.Equal(["dc=fra1", "env=prod"], merged.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"));
    }

    [Theory]
    [InlineData("09:00", "17:00", "2026-12-07T08:59:00Z", false, "2026-12-07T09:00:00Z")]
    [InlineData("09:00", "17:00", "2026-12-07T09:00:00Z", true, "2026-12-08T09:00:00Z")]
    [InlineData("09:00", "17:00", "2026-12-07T17:00:00Z", false, "2026-12-08T09:00:00Z")]
    [InlineData("22:00", "06:00", "2026-12-07T23:30:00Z", true, "2026-12-08T22:00:00Z")]
    [InlineData("22:00", "06:00", "2026-12-07T05:59:00Z", true, "2026-12-07T22:00:00Z")]
    [InlineData("22:00", "06:00", "2026-12-07T12:00:00Z", false, "2026-12-07T22:00:00Z")]
    public void DailyWindow_OpenInsideEachDay_SpanningMidnight_NextOpening(string start, string end, string now, bool open, string next)
    {
        var (isOpen, nextOpen) = new DailyWindow(start, end).At(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(open, isOpen);
        Assert.Equal(DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture), nextOpen);
    }

    [Fact]
    public void Bandwidth_TheJobsScheduleFirst_ThenItsWaves_ElseItsOwnLimit()
    {
        var at = (string time) => DateTimeOffset.Parse($"2026-12-07T{time}:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var job = new ReplicationJob
        {
            JobId = "j-aaaaaaaaaaaaaaaa",
            SourceId = "s-aaaaaaaaaaaaaaaa",
            Name = "bw",
            ReplicationParameters = new ReplicationParameters { BandwidthLimitKBps = 500, BandwidthSchedule = [new BandwidthWindow("08:00", "18:00", 2048)] },
        };
        var wave = new Wave { WaveId = "wv-aaaaaaaaaaaaaaaa", Name = "w", BandwidthSchedule = [new BandwidthWindow("06:00", "20:00", 100), new BandwidthWindow("22:00", "02:00", 0)] };
        Assert.Equal(2048, BandwidthSchedule.Effective(job, wave, at("12:00")));
        Assert.Equal(100, BandwidthSchedule.Effective(job, wave, at("19:00")));
        Assert.Equal(0, BandwidthSchedule.Effective(job, wave, at("23:30")));
        Assert.Equal(500, BandwidthSchedule.Effective(job, wave, at("03:00")));
        Assert.Equal(500, BandwidthSchedule.Effective(job, null, at("19:00")));
    }

    [Theory]
    [InlineData("8:00", "18:00", 10)]
    [InlineData("08:00", "08:00", 10)]
    [InlineData("08:00", "25:00", 10)]
    [InlineData("08:00", "18:00", -1)]
    public void Bandwidth_BadWindows_Refused(string start, string end, int limit) =>
        Assert.Equal(ErrorCodes.InvalidReplicationParameters, Assert.Throws<SmcException>(() =>
            BandwidthSchedule.Check([new BandwidthWindow(start, end, limit)], ErrorCodes.InvalidReplicationParameters, "bandwidthSchedule")).Code);
}
