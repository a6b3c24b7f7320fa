using System.Net;
using Microsoft.Playwright;
using Smc.Integration.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Smc.Integration.Tests;

/// <summary>
/// The monitoring page at <c>/</c> in Debian's Chromium, driven by Playwright (issue 7), against the standalone host with
/// a real agent: login with the operator key, a running migration's progress moving without a page reload, a job in
/// error with its code and fix-it text, stop and start taking effect. No request leaves the host; a screenshot is kept
/// in <c>.artifacts/screenshots/</c>.
/// </summary>
public sealed class DashboardTests(PrivateControlPlaneFixture fx) : IClassFixture<PrivateControlPlaneFixture>
{
    [Fact]
    public async Task Dashboard_ShowsProgressMovingAndAnError_StopAndStartTakeEffect()
    {
        ApiClient op = fx.Control.Operator();
        var (sourceId, config, jobId) = await Flows.SourceWithJobAsync(fx.Control, fx.Box, SampleDisks.Gpt(fx.Box, "dash.img", dataMiB: 24),
            new { name = "dash-running", replicationParameters = new { bandwidthLimitKBps = 1500, threads = 1, compressLevel = 0 } });
        var (_, code) = await Flows.NewTokenAsync(op);
        string noDisks = await Flows.RegisterSourceOverHttpAsync(fx.Control, code, "dash-nodisks");
        string failing = await Flows.NewJobAsync(op, noDisks, new { name = "dash-failing" });
        (await op.PostAsync($"/api/v1/replication-jobs/{failing}/start")).Expect(HttpStatusCode.Accepted);
        await op.WaitForAsync($"/api/v1/replication-jobs/{failing}", j => j["status"]!.GetValue<string>() == "InError", TimeSpan.FromSeconds(60));
        string templateId = (await op.PostAsync("/api/v1/job-templates", new { name = "dash template", values = new { imageName = "{source}-{round}", maxNumberOfImageToKeep = 4 } }))
            .Expect(HttpStatusCode.Created).Json["templateId"]!.GetValue<string>();
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);

        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await Browser.LaunchAsync(playwright);
        IPage page = await browser.NewPageAsync();
        var host = new Uri(fx.Control.Url);
        var elsewhere = new List<string>();
        await page.RouteAsync("**/*", async route =>
        {
            var url = new Uri(route.Request.Url);
            if (url.Authority != host.Authority)
            {
                elsewhere.Add(route.Request.Url);
                await route.AbortAsync();
                return;
            }

            await route.ContinueAsync();
        });

        await Browser.LogInAsync(page, fx.Control);
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");

        ILocator running = page.Locator($"tr[data-job='{jobId}']");
        ILocator failed = page.Locator($"tr[data-job='{failing}']");
        await Expect(failed.Locator(".error code")).ToHaveTextAsync("SourceNoDisks", new() { Timeout = 30_000 });
        await Expect(failed.Locator(".error div")).ToContainTextAsync("smc-agent inspect");

        // Each source's pre-flight report: the agent's (its sample fstab names /dev/sda2), or none for one registered without.
        ILocator checkedSource = page.Locator($"tr[data-source='{sourceId}']");
        await Expect(checkedSource.Locator(".preflight")).ToHaveTextAsync("fail", new() { Timeout = 30_000 });
        ILocator fstab = checkedSource.Locator(".finding.fail", new() { HasText = "fstab.devices" });
        await Expect(fstab.Locator("code")).ToHaveTextAsync("fstab.devices");
        await Expect(fstab).ToContainTextAsync("/dev/sda2");
        await Expect(checkedSource).ToContainTextAsync("in use");
        await Expect(page.Locator($"tr[data-source='{noDisks}']")).ToContainTextAsync("not checked");

        // Job templates: what a job made from one takes.
        ILocator template = page.Locator($"tr[data-template='{templateId}']");
        await Expect(template).ToContainTextAsync("dash template");
        await Expect(template).ToContainTextAsync("{source}-{round}");
        await Expect(template.Locator(".made")).ToHaveTextAsync("0");

        // Progress moves while the page stays the same document (auto-refresh, not a reload).
        await page.WaitForFunctionAsync($"() => parseFloat(document.querySelector(\"tr[data-job='{jobId}'] .pct\")?.textContent) > 0", null, new() { Timeout = 60_000 });
        double first = double.Parse((await running.Locator(".pct").TextContentAsync())!.TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture);
        await page.WaitForFunctionAsync($"(p) => parseFloat(document.querySelector(\"tr[data-job='{jobId}'] .pct\")?.textContent) > p", first, new() { Timeout = 60_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"));

        string shots = Path.Combine(Repo.Root, ".artifacts", "screenshots");
        Directory.CreateDirectory(shots);
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "dashboard-running.png"), FullPage = true });

        // Stop from the page: the job is Stopped (the API agrees), then Start runs it again.
        await running.Locator("button[data-act=stop]").ClickAsync(new() { Timeout = 30_000 });
        await Expect(running.Locator(".status")).ToHaveTextAsync("Stopped", new() { Timeout = 30_000 });
        Assert.Equal("Stopped", (await op.GetAsync($"/api/v1/replication-jobs/{jobId}")).Json["status"]!.GetValue<string>());
        await running.Locator("button[data-act=start]").ClickAsync(new() { Timeout = 30_000 });
        await Expect(running.Locator(".status")).ToHaveTextAsync("Running", new() { Timeout = 30_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "dashboard-restarted.png"), FullPage = true });
        Assert.Empty(elsewhere);
    }
}
