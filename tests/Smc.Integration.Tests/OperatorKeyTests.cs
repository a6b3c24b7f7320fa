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

    [GeneratedRegex(@"Operator key \(shown once; send it as x-functions-key\): (\S+)")]
    private static partial Regex KeyLine();
}
