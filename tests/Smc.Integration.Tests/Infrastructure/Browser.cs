using Microsoft.Playwright;

namespace Smc.Integration.Tests.Infrastructure;

/// <summary>Debian's Chromium, headless, driven by Playwright (never a downloaded browser); the options this machine needs.</summary>
internal static class Browser
{
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new()
    {
        ExecutablePath = "/usr/bin/chromium",
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });

    /// <summary>Opens the monitoring page and logs in with the operator key.</summary>
    public static async Task LogInAsync(IPage page, ControlPlane control)
    {
        await page.GotoAsync(control.Url + "/");
        await page.FillAsync("#key", ControlPlane.OperatorKey);
        await page.ClickAsync("#login button[type=submit]");
    }
}
