using System.Net;
using System.Text.RegularExpressions;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>Without SMC_ADMIN_KEY the first start makes an operator key, prints it once, and keeps only its hash.</summary>
public sealed partial class OperatorKeyTests
{
    [Fact]
    public async Task FirstStart_NoAdminKey_KeyPrintedOnceAndWorksAfterRestart()
    {
        using Azurite azurite = await Azurite.StartAsync();
        string key;
        string url;
        using (ControlPlane first = await ControlPlane.StartAsync(azurite.ConnectionString, operatorKey: null))
        {
            url = first.Url;
            Match printed = KeyLine().Match(first.Process.Output);
            Assert.True(printed.Success, first.Process.Output);
            key = printed.Groups[1].Value;
            (await new ApiClient(url, operatorKey: key).GetAsync("/api/v1/source-servers")).Expect(HttpStatusCode.OK);
            (await new ApiClient(url, operatorKey: key + "x").GetAsync("/api/v1/source-servers")).ExpectProblem(HttpStatusCode.Unauthorized, "Unauthorized.OperatorKey");
        }

        using ControlPlane second = await ControlPlane.StartAsync(azurite.ConnectionString, operatorKey: null, urlOverride: url);
        Assert.DoesNotMatch(KeyLine(), second.Process.Output);
        (await new ApiClient(url, operatorKey: key).GetAsync("/api/v1/source-servers")).Expect(HttpStatusCode.OK);

        // Only a hash is stored: the key itself is nowhere in the account's tables.
        var keys = new Azure.Data.Tables.TableClient(azurite.ConnectionString, "smcKeys");
        await foreach (var row in keys.QueryAsync<Azure.Data.Tables.TableEntity>())
        {
            Assert.DoesNotContain(key.Split('.')[1], row.GetString("Value") ?? "", StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("op.password")]
    [InlineData("op.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("op.0123456789012345678")]
    public async Task AWeakConfiguredKey_StopsTheStart_SayingWhatAKeyNeeds(string weak)
    {
        using Azurite azurite = await Azurite.StartAsync();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ControlPlane.StartAsync(azurite.ConnectionString, operatorKey: weak));
        Assert.Contains("128 bits", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(weak.Split('.')[1], e.Message, StringComparison.Ordinal); // the refused secret isn't printed
    }

    [Fact]
    public async Task AKeyRotatedOnOneHost_IsTheOnlyKeyAnotherHostTakes_SoonAfter()
    {
        using Azurite azurite = await Azurite.StartAsync();
        const string Old = "op.first-key-0123456789abcdefXYZ", New = "op.second-key-9876543210fedcbaQRS";
        var cache = new Dictionary<string, string> { ["SMC_SECURITY__OPERATORKEYCACHESECONDS"] = "1" };
        using ControlPlane first = await ControlPlane.StartAsync(azurite.ConnectionString, operatorKey: Old, settings: cache);
        (await new ApiClient(first.Url, operatorKey: Old).GetAsync("/api/v1/source-servers")).Expect(HttpStatusCode.OK);

        // A second host of the same control plane started with the new key: it stores the new hash.
        using ControlPlane second = await ControlPlane.StartAsync(azurite.ConnectionString, operatorKey: New, settings: cache);
        (await new ApiClient(second.Url, operatorKey: New).GetAsync("/api/v1/source-servers")).Expect(HttpStatusCode.OK);

        // The first host read the old hash before; it must drop it (it kept it for its whole life).
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while ((await new ApiClient(first.Url, operatorKey: Old).GetAsync("/api/v1/source-servers")).Status != HttpStatusCode.Unauthorized)
        {
            await Task.Delay(100, deadline.Token);
        }

        (await new ApiClient(first.Url, operatorKey: New).GetAsync("/api/v1/source-servers")).Expect(HttpStatusCode.OK);
        (await new ApiClient(second.Url, operatorKey: Old).GetAsync("/api/v1/source-servers")).ExpectProblem(HttpStatusCode.Unauthorized, "Unauthorized.OperatorKey");
    }

    [GeneratedRegex(@"Operator key \(shown once; send it as x-functions-key\): (\S+)")]
    private static partial Regex KeyLine();
}
