using Azure;
using Smc.Core.Errors;

namespace Smc.Storage.Azure;

/// <summary>The Azure Storage boundary's error classifier: unreachable storage is transient (503), the rest passes through.</summary>
internal static class StorageErrors
{
    public static async Task<TResult> Guard<TResult>(Func<Task<TResult>> call)
    {
        try
        {
            return await call();
        }
        catch (RequestFailedException e) when (e.Status is 0 or 500 or 502 or 503 or 504)
        {
            throw Unavailable(e);
        }
        catch (AggregateException e) when (e.InnerException is HttpRequestException)
        {
            throw Unavailable(e);
        }
        catch (HttpRequestException e)
        {
            throw Unavailable(e);
        }
    }

    private static SmcException Unavailable(Exception e) =>
        new(503, ErrorCodes.StorageUnavailable, $"Storage is unreachable or failing ({e.GetType().Name}); nothing was changed. Check SMC_STORAGE__CONNECTIONSTRING and that the storage (Azurite) runs, then retry.");
}
