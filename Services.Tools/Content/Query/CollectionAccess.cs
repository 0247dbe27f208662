namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// What the caller may read of each collection, asked once per collection a query touches (the root and every
/// relation it reads, filters or sorts through), so a nested read can never show more than a direct one.
/// </summary>
public interface ICollectionAccess
{
    /// <summary>The caller's read permission on <paramref name="collection"/>, or null when it may not read it at all.</summary>
    CollectionReadAccess? Read(string collection);
}

/// <summary>A read permission: rows outside <see cref="RowFilter"/> are invisible; <see cref="Fields"/> null (or holding <c>*</c>) means every field.</summary>
public sealed record CollectionReadAccess(Filter? RowFilter = null, IReadOnlySet<string>? Fields = null)
{
    public static readonly CollectionReadAccess Everything = new();

    public bool CanRead(string field) => Fields is null || Fields.Contains("*") || Fields.Contains(field);
}

/// <summary>Admins bypass permissions; so do tests of the query language itself.</summary>
public sealed class FullAccess : ICollectionAccess
{
    public static readonly FullAccess Instance = new();

    public CollectionReadAccess? Read(string collection) => CollectionReadAccess.Everything;
}

/// <summary>Access from a function, for a permission engine that already holds its rules in a dictionary.</summary>
public sealed class DelegateAccess(Func<string, CollectionReadAccess?> read) : ICollectionAccess
{
    public CollectionReadAccess? Read(string collection) => read(collection);
}
