using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Smc.Integration.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Smc.Integration.Tests;

/// <summary>
/// Inventory import and export (issue 19) on a real control plane: a 30-row CSV as an operator plans a migration — two
/// templates, two waves (created by the import), tags, rows naming their source by id or by name, and three rows that
/// can't be done — gives 27 jobs and three row errors with their codes; the same CSV again changes nothing; a changed
/// row updates only what it changed; the export lists the jobs with their state and imports back unchanged.
/// </summary>
public sealed class InventoryTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    private const int Sources = 29; // 27 good rows + 2 bad rows whose source exists

    [Fact]
    public async Task AThirtyRowCsv_Gives27JobsAnd3RowErrors_ImportsAgainUnchanged_AndItsExportRoundTrips()
    {
        ApiClient op = fx.Control.Operator();
        string marker = Guid.NewGuid().ToString("N")[..6];
        foreach (string t in new[] { "web", "db" })
        {
            (await op.PostAsync("/api/v1/job-templates", new
            {
                name = $"inv-{t}-{marker}",
                values = new { name = "{source} " + t, runOnce = false, syncInterval = "PT1H", maxNumberOfImageToKeep = 2, tags = new Dictionary<string, string> { ["tier"] = t } },
            })).Expect(HttpStatusCode.Created);
        }

        string disk = SampleDisks.Gpt(fx.Box, "inventory.img", dataMiB: 1);
        var (_, code) = await Flows.NewTokenAsync(op, count: Sources);
        var registered = await Task.WhenAll(Enumerable.Range(0, Sources).Select(i => Task.Run(() => Flows.RegisterAgent(fx.Control, fx.Box, code, disk))));
        string[] ids = [.. registered.Select(r => r.SourceId)];
        for (int i = 0; i < Sources; i++)
        {
            (await op.PatchAsync($"/api/v1/source-servers/{ids[i]}", new { name = $"inv-{marker}-{i:00}" })).Expect(HttpStatusCode.OK);
        }

        // 30 rows: by id or by name, two templates, two waves, tags; row 5 names no registered server, row 12 a template
        // that doesn't exist, row 20 a tag ECS refuses.
        var csv = new StringBuilder("sourceId,sourceName,template,wave,tags,maxNumberOfImageToKeep,description\n");
        int next = 0;
        for (int row = 1; row <= 30; row++)
        {
            string template = row % 2 == 0 ? $"inv-web-{marker}" : $"inv-db-{marker}";
            string wave = row <= 15 ? $"wave A {marker}" : $"wave B {marker}";
            string tags = $"batch={marker};row={row}";
            if (row == 5)
            {
                csv.AppendLine($",no-such-server-{marker},{template},{wave},{tags},,");
                continue;
            }

            int i = next++;
            if (row == 12)
            {
                template = $"no-such-template-{marker}";
            }
            else if (row == 20)
            {
                tags = "aliyun:owner=me";
            }

            string source = i % 3 == 0 ? $",inv-{marker}-{i:00}" : $"{ids[i]},";
            csv.AppendLine($"{source},{template},\"{wave}\",{tags},{(row % 4 == 0 ? "3" : "")},\"planned, row {row}\"");
        }

        JsonNode first = (await op.PostTextAsync("/api/v1/imports", csv.ToString(), "text/csv")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(27, first["summary"]!["created"]!.GetValue<int>());
        Assert.Equal(3, first["summary"]!["error"]!.GetValue<int>());
        var errors = first["results"]!.AsArray().Where(r => r!["status"]!.GetValue<string>() == "error").ToDictionary(r => r!["row"]!.GetValue<int>(), r => r!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(new Dictionary<int, string> { [5] = "InvalidSourceId.NotFound", [12] = "InvalidTemplateId.NotFound", [20] = "InvalidParameter.Tag" }, errors);
        Assert.Contains($"no-such-server-{marker}", first["results"]![4]!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        // Two waves made by name, the jobs in them, with the template's values under the row's.
        JsonNode waves = (await op.GetAsync($"/api/v1/waves?name={marker}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(2, waves["totalCount"]!.GetValue<int>());
        Assert.Equal(27, waves["waves"]!.AsArray().Sum(w => w!["rollup"]!["jobs"]!.GetValue<int>()));
        JsonNode row4 = (await op.GetAsync($"/api/v1/replication-jobs/{first["results"]![3]!["jobId"]!.GetValue<string>()}")).Json;
        Assert.Equal(($"inv-{marker}-03 web", 3, "web", "4", "planned, row 4"), (row4["name"]!.GetValue<string>(), row4["maxNumberOfImageToKeep"]!.GetValue<int>(),
            row4["tags"]!["tier"]!.GetValue<string>(), row4["tags"]!["row"]!.GetValue<string>(), row4["description"]!.GetValue<string>()));

        // The same CSV again: nothing changes, the same three rows fail the same way.
        JsonNode again = (await op.PostTextAsync("/api/v1/imports", csv.ToString(), "text/csv")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(27, again["summary"]!["unchanged"]!.GetValue<int>());
        Assert.Equal(3, again["summary"]!["error"]!.GetValue<int>());
        Assert.Equal(first["results"]!.AsArray().Select(r => r!["jobId"]?.GetValue<string>()), again["results"]!.AsArray().Select(r => r!["jobId"]?.GetValue<string>()));
        Assert.Equal(2, (await op.GetAsync($"/api/v1/waves?name={marker}")).Json["totalCount"]!.GetValue<int>());

        // The export: the import's columns, then each job's state; imported back, it changes nothing.
        Reply export = (await op.GetAsync($"/api/v1/exports?format=csv&tag=batch:{marker}")).Expect(HttpStatusCode.OK);
        Assert.Equal("text/csv", export.ContentType);
        string[] lines = export.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("sourceId,sourceName,name,description,template,wave,tags,runOnce,syncInterval,maxNumberOfImageToKeep,imageName,targetType,imageProvider,regionId,jobId,status", lines[0], StringComparison.Ordinal);
        Assert.Equal(1 + 27, lines.Length);
        Assert.Contains(lines, l => l.Contains($"wave A {marker}", StringComparison.Ordinal) && l.Contains(",Ready,", StringComparison.Ordinal));
        JsonNode roundTrip = (await op.PostTextAsync("/api/v1/imports", export.Body, "text/csv")).Expect(HttpStatusCode.OK).Json;
        Assert.True(roundTrip["summary"]!["unchanged"]?.GetValue<int>() == 27, roundTrip.ToJsonString());

        // A changed row changes only that: JSON this time, by source name.
        JsonNode changed = (await op.PostAsync("/api/v1/imports", new
        {
            rows = new object[] { new { sourceName = $"inv-{marker}-03", name = "renamed {source}", wave = $"wave B {marker}", tags = new Dictionary<string, string> { ["batch"] = marker, ["row"] = "4" } } },
        })).Expect(HttpStatusCode.OK).Json;
        JsonNode result = changed["results"]![0]!;
        Assert.Equal("updated", result["status"]!.GetValue<string>());
        Assert.Equal(["name", "waveId"], result["changed"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal($"renamed inv-{marker}-03", (await op.GetAsync($"/api/v1/replication-jobs/{result["jobId"]!.GetValue<string>()}")).Json["name"]!.GetValue<string>());

        // A JSON tag value is taken as it is, with its ";" (only a CSV cell splits on it).
        JsonNode noted = (await op.PostAsync("/api/v1/imports", new
        {
            rows = new object[] { new { sourceName = $"inv-{marker}-05", tags = new Dictionary<string, string> { ["batch"] = marker, ["row"] = "6", ["note"] = "a;b" } } },
        })).Expect(HttpStatusCode.OK).Json["results"]![0]!;
        Assert.True(noted["status"]!.GetValue<string>() == "updated", noted.ToJsonString());
        Assert.Equal(["tags"], noted["changed"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal("a;b", (await op.GetAsync($"/api/v1/replication-jobs/{noted["jobId"]!.GetValue<string>()}")).Json["tags"]!["note"]!.GetValue<string>());

        // What can't change on a job, and an unknown column, are refused with what to do.
        JsonNode fixedField = (await op.PostTextAsync("/api/v1/imports", $"sourceName,runOnce\ninv-{marker}-03,true\n", "text/csv")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("InvalidParameter.ReadOnlyField", fixedField["results"]![0]!["error"]!["code"]!.GetValue<string>());
        (await op.PostTextAsync("/api/v1/imports", "sourceName,wavve\nx,y\n", "text/csv")).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.Import");
    }

    [Fact]
    public async Task TheMonitoringPage_ImportsACsv_ShowsTheWavesRollup_CreatesAJobFromATemplate_AndDownloadsTheExport()
    {
        ApiClient op = fx.Control.Operator();
        string marker = Guid.NewGuid().ToString("N")[..6];
        string templateId = (await op.PostAsync("/api/v1/job-templates", new { name = $"dash-tpl-{marker}", values = new { name = "{source} dash", runOnce = false, syncInterval = "PT1H" } }))
            .Expect(HttpStatusCode.Created).Json["templateId"]!.GetValue<string>();
        string disk = SampleDisks.Gpt(fx.Box, "inventory-dash.img", dataMiB: 1);
        var (_, code) = await Flows.NewTokenAsync(op, count: 3);
        string[] ids = new string[3];
        for (int i = 0; i < 3; i++)
        {
            ids[i] = Flows.RegisterAgent(fx.Control, fx.Box, code, disk).SourceId;
            (await op.PatchAsync($"/api/v1/source-servers/{ids[i]}", new { name = $"dash-{marker}-{i}" })).Expect(HttpStatusCode.OK);
        }

        string file = fx.Box.File($"dash-{marker}.csv");
        await File.WriteAllTextAsync(file, $"sourceName,template,wave\ndash-{marker}-0,dash-tpl-{marker},dash wave {marker}\ndash-{marker}-1,dash-tpl-{marker},dash wave {marker}\nnowhere-{marker},dash-tpl-{marker},dash wave {marker}\n");

        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await Browser.LaunchAsync(playwright);
        IPage page = await browser.NewPageAsync();
        await Browser.LogInAsync(page, fx.Control);

        // Upload: the summary, and the row that failed with its code.
        await page.Locator("#import-file").SetInputFilesAsync(file);
        await page.Locator("#import button[type=submit]").ClickAsync();
        await Expect(page.Locator("#import-result .summary")).ToHaveTextAsync("2 created, 1 error", new() { Timeout = 30_000 });
        await Expect(page.Locator("#import-result .row-error[data-row='3'] code")).ToHaveTextAsync("InvalidSourceId.NotFound");

        // The wave the import made, rolled up.
        string waveId = (await op.GetAsync($"/api/v1/waves?name=dash%20wave%20{marker}")).Json["waves"]![0]!["waveId"]!.GetValue<string>();
        ILocator wave = page.Locator($"tr[data-wave='{waveId}']");
        await Expect(wave.Locator(".jobs")).ToHaveTextAsync("2", new() { Timeout = 30_000 });
        await Expect(wave.Locator(".by-status")).ToContainTextAsync("Ready 2");

        // A job from the template picker, into the wave.
        await page.Locator("#create-source").SelectOptionAsync(ids[2], new() { Timeout = 30_000 });
        await page.Locator("#create-template").SelectOptionAsync(templateId);
        await page.Locator("#create-wave").SelectOptionAsync(waveId);
        await page.Locator("#create-job button[type=submit]").ClickAsync();
        await Expect(wave.Locator(".jobs")).ToHaveTextAsync("3", new() { Timeout = 30_000 });
        JsonNode created = (await op.GetAsync($"/api/v1/replication-jobs?sourceId={ids[2]}")).Json["replicationJobs"]![0]!;
        Assert.Equal(($"dash-{marker}-2 dash", templateId, waveId), (created["name"]!.GetValue<string>(), created["templateId"]!.GetValue<string>(), created["waveId"]!.GetValue<string>()));

        // The export, as the browser saves it.
        IDownload download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#export").ClickAsync());
        string saved = fx.Box.File($"dash-{marker}-export.csv");
        await download.SaveAsAsync(saved);
        string[] lines = await File.ReadAllLinesAsync(saved);
        Assert.StartsWith("sourceId,sourceName,", lines[0], StringComparison.Ordinal);
        Assert.All(ids, id => Assert.Contains(lines, l => l.StartsWith(id + ",", StringComparison.Ordinal) && l.Contains($"dash wave {marker}", StringComparison.Ordinal)));
    }
}
