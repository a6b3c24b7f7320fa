using System.Net;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// Job templates (issue 19) on a real control plane and agent: a template's values checked once, when it is saved, by
/// the job rules; a job created from it takes its values, overrides what it gives, and fills <c>{source}</c> with the
/// source's name and <c>{round}</c> with each image's round; a later change of the template reaches only later jobs.
/// </summary>
public sealed class JobTemplateTests(PrivateControlPlaneFixture fx) : IClassFixture<PrivateControlPlaneFixture>
{
    [Fact]
    public async Task AJobFromATemplate_TakesItsValues_OverridesWhatItGives_AndFillsThePlaceholders()
    {
        ApiClient op = fx.Control.Operator();
        JsonNode template = (await op.PostAsync("/api/v1/job-templates", new
        {
            name = "web tier",
            description = "nightly images of the web servers",
            values = new
            {
                name = "{source} nightly",
                imageName = "{source}-r{round}",
                maxNumberOfImageToKeep = 3,
                replicationParameters = new { threads = 2, compressLevel = 3 },
            },
        })).Expect(HttpStatusCode.Created).Json;
        string templateId = template["templateId"]!.GetValue<string>();
        Assert.StartsWith("jt-", templateId, StringComparison.Ordinal);

        var (_, code) = await Flows.NewTokenAsync(op);
        var (sourceId, config) = Flows.RegisterAgent(fx.Control, fx.Box, code, SampleDisks.Gpt(fx.Box, "template.img"));
        string sourceName = (await op.GetAsync($"/api/v1/source-servers/{sourceId}")).Expect(HttpStatusCode.OK).Json["name"]!.GetValue<string>();

        // The job gives its own retention; everything else comes from the template.
        string jobId = (await op.PostAsync("/api/v1/replication-jobs", new { sourceId, templateId, maxNumberOfImageToKeep = 5 }))
            .Expect(HttpStatusCode.Created).Json["jobId"]!.GetValue<string>();
        JsonNode job = (await op.GetAsync($"/api/v1/replication-jobs/{jobId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal($"{sourceName} nightly", job["name"]!.GetValue<string>());
        Assert.Equal(5, job["maxNumberOfImageToKeep"]!.GetValue<int>());
        Assert.Equal(3, job["replicationParameters"]!["compressLevel"]!.GetValue<int>());
        Assert.Equal(templateId, job["templateId"]!.GetValue<string>());

        // A changed template reaches the next job only.
        (await op.PatchAsync($"/api/v1/job-templates/{templateId}", new { values = new { name = "{source} weekly", maxNumberOfImageToKeep = 2 } })).Expect(HttpStatusCode.OK);
        Assert.Equal($"{sourceName} nightly", (await op.GetAsync($"/api/v1/replication-jobs/{jobId}")).Json["name"]!.GetValue<string>());
        Assert.Equal("{source} weekly", (await op.GetAsync($"/api/v1/job-templates/{templateId}")).Json["values"]!["name"]!.GetValue<string>());
        JsonNode listed = (await op.GetAsync("/api/v1/job-templates?name=web")).Expect(HttpStatusCode.OK).Json;
        Assert.Contains(listed["jobTemplates"]!.AsArray(), t => t!["templateId"]!.GetValue<string>() == templateId);

        // The image of round 0 is named from the job's imageName, {round} filled in.
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode done = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(120));
        Assert.True(done["status"]!.GetValue<string>() == "Finished", done.ToJsonString());
        string imageId = done["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();
        Assert.Equal($"{sourceName}-r0", (await op.GetAsync($"/api/v1/images/{imageId}")).Json["imageName"]!.GetValue<string>());
    }

    [Fact]
    public async Task ABadTemplate_IsRefusedWhenSaved_WithTheJobRulesCode_AndNothingIsStored()
    {
        ApiClient op = fx.Control.Operator();
        int before = (await op.GetAsync("/api/v1/job-templates?pageSize=50")).Json["totalCount"]!.GetValue<int>();

        (await op.PostAsync("/api/v1/job-templates", new { name = "too big", values = new { systemDiskSize = 40000 } }))
            .ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.SystemDiskSize");
        (await op.PostAsync("/api/v1/job-templates", new { name = "names a source", values = new { sourceId = "s-aaaaaaaaaaaaaaaa" } }))
            .ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.Template");
        (await op.PostAsync("/api/v1/job-templates", new { name = "x" })).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.Name");
        (await op.PostAsync("/api/v1/job-templates", new { name = "typo", values = new { maxNumberOfImagesToKeep = 2 } }))
            .ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.UnknownField");
        Assert.Equal(before, (await op.GetAsync("/api/v1/job-templates?pageSize=50")).Json["totalCount"]!.GetValue<int>());

        JsonNode template = (await op.PostAsync("/api/v1/job-templates", new { name = "kept", values = new { maxNumberOfImageToKeep = 2 } })).Expect(HttpStatusCode.Created).Json;
        string templateId = template["templateId"]!.GetValue<string>();
        (await op.PatchAsync($"/api/v1/job-templates/{templateId}", new { values = new { syncInterval = "not-a-duration", runOnce = false } }))
            .ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.Frequency");
        Assert.Equal(2, (await op.GetAsync($"/api/v1/job-templates/{templateId}")).Json["values"]!["maxNumberOfImageToKeep"]!.GetValue<int>());

        (await op.PostAsync("/api/v1/replication-jobs", new { sourceId = "s-aaaaaaaaaaaaaaaa", templateId = "jt-aaaaaaaaaaaaaaaa" }))
            .ExpectProblem(HttpStatusCode.NotFound, "InvalidTemplateId.NotFound");
        (await op.DeleteAsync($"/api/v1/job-templates/{templateId}")).Expect(HttpStatusCode.NoContent);
        (await op.GetAsync($"/api/v1/job-templates/{templateId}")).ExpectProblem(HttpStatusCode.NotFound, "InvalidTemplateId.NotFound");
    }

    [Fact]
    public async Task Tags_OnSourcesJobsAndTemplates_AddUpFromTheTemplate_FilterTheLists_AndBadOnesAreRefused()
    {
        ApiClient op = fx.Control.Operator();
        string marker = Guid.NewGuid().ToString("N")[..8];
        string templateId = (await op.PostAsync("/api/v1/job-templates", new
        {
            name = "tagged " + marker,
            tags = new Dictionary<string, string> { ["owner"] = marker },
            values = new { name = "{source} tagged", tags = new Dictionary<string, string> { ["env"] = "prod", ["tier"] = "web" } },
        })).Expect(HttpStatusCode.Created).Json["templateId"]!.GetValue<string>();

        var (_, code) = await Flows.NewTokenAsync(op);
        var (sourceA, _) = Flows.RegisterAgent(fx.Control, fx.Box, code, SampleDisks.Gpt(fx.Box, $"tags-a-{marker}.img"));
        (_, code) = await Flows.NewTokenAsync(op);
        var (sourceB, _) = Flows.RegisterAgent(fx.Control, fx.Box, code, SampleDisks.Gpt(fx.Box, $"tags-b-{marker}.img"));
        (await op.PatchAsync($"/api/v1/source-servers/{sourceA}", new { tags = new Dictionary<string, string> { ["batch"] = marker, ["dc"] = "fra1" } })).Expect(HttpStatusCode.OK);
        (await op.PatchAsync($"/api/v1/source-servers/{sourceB}", new { tags = new Dictionary<string, string> { ["batch"] = marker, ["dc"] = "ams2" } })).Expect(HttpStatusCode.OK);

        // The template's job tags under the request's own: env is overridden, tier kept, batch added.
        string jobA = (await op.PostAsync("/api/v1/replication-jobs", new { sourceId = sourceA, templateId, tags = new Dictionary<string, string> { ["env"] = "staging", ["batch"] = marker } }))
            .Expect(HttpStatusCode.Created).Json["jobId"]!.GetValue<string>();
        string jobB = (await op.PostAsync("/api/v1/replication-jobs", new { sourceId = sourceB, templateId, tags = new Dictionary<string, string> { ["batch"] = marker } }))
            .Expect(HttpStatusCode.Created).Json["jobId"]!.GetValue<string>();
        JsonNode a = (await op.GetAsync($"/api/v1/replication-jobs/{jobA}")).Json;
        Assert.Equal("staging", a["tags"]!["env"]!.GetValue<string>());
        Assert.Equal("web", a["tags"]!["tier"]!.GetValue<string>());

        async Task<string[]> Listed(string path, string array, string id) =>
            [.. (await op.GetAsync(path)).Expect(HttpStatusCode.OK).Json[array]!.AsArray().Select(x => x![id]!.GetValue<string>()).Order(StringComparer.Ordinal)];

        Assert.Equal(new[] { jobA, jobB }.Order(StringComparer.Ordinal), await Listed($"/api/v1/replication-jobs?tag=batch:{marker}&pageSize=50", "replicationJobs", "jobId"));
        Assert.Equal([jobB], await Listed($"/api/v1/replication-jobs?tag=batch:{marker}&tag=env:prod&pageSize=50", "replicationJobs", "jobId"));
        Assert.Equal([sourceA], await Listed($"/api/v1/source-servers?tag=batch:{marker}&tag=dc:fra1&pageSize=50", "sourceServers", "sourceId"));
        Assert.Equal([templateId], await Listed($"/api/v1/job-templates?tag=owner:{marker}", "jobTemplates", "templateId"));
        Assert.Equal(new[] { sourceA, sourceB }.Order(StringComparer.Ordinal), await Listed($"/api/v1/source-servers?tag=batch:{marker}&tag=dc&pageSize=50", "sourceServers", "sourceId"));

        // PATCH replaces a job's tags whole.
        (await op.PatchAsync($"/api/v1/replication-jobs/{jobB}", new { tags = new Dictionary<string, string> { ["batch"] = marker, ["env"] = "retired" } })).Expect(HttpStatusCode.OK);
        Assert.Empty(await Listed($"/api/v1/replication-jobs?tag=batch:{marker}&tag=env:prod&pageSize=50", "replicationJobs", "jobId"));
        Assert.Null((await op.GetAsync($"/api/v1/replication-jobs/{jobB}")).Json["tags"]!["tier"]);

        // ECS's rules, refused before anything is stored.
        Assert.Equal("InvalidParameter.Tag", (await op.PatchAsync($"/api/v1/replication-jobs/{jobB}", new { tags = new Dictionary<string, string> { ["aliyun:reserved"] = "x" } })).Expect(HttpStatusCode.BadRequest).Json["code"]!.GetValue<string>());
        Assert.Equal("InvalidParameter.Tag", (await op.PatchAsync($"/api/v1/source-servers/{sourceA}", new { tags = Enumerable.Range(0, 21).ToDictionary(i => $"k{i}", i => "v") })).Expect(HttpStatusCode.BadRequest).Json["code"]!.GetValue<string>());
        Assert.Equal("InvalidParameter.Tag", (await op.GetAsync("/api/v1/replication-jobs?tag=:x")).Expect(HttpStatusCode.BadRequest).Json["code"]!.GetValue<string>());
        Assert.Equal("retired", (await op.GetAsync($"/api/v1/replication-jobs/{jobB}")).Json["tags"]!["env"]!.GetValue<string>());
        Assert.Equal("fra1", (await op.GetAsync($"/api/v1/source-servers/{sourceA}")).Json["tags"]!["dc"]!.GetValue<string>());
    }
}
