namespace Smc.Core.Api;

/// <summary>A page of a listing (SMC paging: pageNumber from 1, pageSize 1–50, default 10).</summary>
public sealed record Page<T>(int TotalCount, int PageNumber, int PageSize, IReadOnlyList<T> Items);
