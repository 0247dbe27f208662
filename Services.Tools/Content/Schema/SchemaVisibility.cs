using AiAssistant.Services.Tools.Content.Query;

namespace AiAssistant.Services.Tools.Content.Schema;

/// <summary>
/// The part of the schema a caller may see, as Directus shows it to a non-admin: the collections it may read, in
/// each only the fields it may read, and the relations between what is left. A collection folder stays when it
/// holds (at any depth) a collection that stays, so the caller's collections keep their grouping. <c>/collections</c>,
/// <c>/fields</c> and <c>/relations</c> shape this snapshot exactly as they shape the whole one for an admin, so a
/// hidden collection answers 403 as an unknown one does.
/// </summary>
public static class SchemaVisibility
{
    public static SchemaSnapshot For(SchemaSnapshot schema, ICollectionAccess access)
    {
        var readable = new Dictionary<string, CollectionSchema>(StringComparer.Ordinal);
        foreach (var collection in schema.Collections.Values.Where(c => !c.IsFolder))
        {
            if (access.Read(collection.Collection) is not { } read) continue;
            readable[collection.Collection] = collection with
            {
                Fields = collection.Fields.Values.Where(f => read.CanRead(f.Field)).ToDictionary(f => f.Field, StringComparer.Ordinal),
            };
        }

        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var collection in readable.Values)
            for (var group = collection.Meta.Group; group is not null && schema.Collection(group) is { IsFolder: true } folder && folders.Add(group);)
                group = folder.Meta.Group;

        var relations = schema.Relations.Where(r =>
            readable.TryGetValue(r.Collection, out var many) && many.Fields.ContainsKey(r.Field)
            && (r.RelatedCollection is null || readable.ContainsKey(r.RelatedCollection)));
        return new SchemaSnapshot(readable.Values.Concat(folders.Select(f => schema.Collections[f])), relations);
    }
}
