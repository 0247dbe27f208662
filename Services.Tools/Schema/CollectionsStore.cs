using System.Text.RegularExpressions;
using AiAssistant.ServiceDefaults.Data;
using AiAssistant.ServiceDefaults.Errors;
using Npgsql;

namespace AiAssistant.Services.Tools.Schema;

public sealed class ContentSchema : IDatabaseSchema
{
    public string Sql => """
        create table if not exists content_collections (
            collection text primary key,
            note text,
            hidden boolean not null default false,
            singleton boolean not null default false,
            created_at timestamptz not null default now()
        );
        """;
}

public sealed record CollectionInfo(string Collection, string? Note, bool Hidden, bool Singleton);

/// <summary>The content store's collections (the CMS schema). Fields, relations and items come with the content store.</summary>
public sealed partial class CollectionsStore(NpgsqlDataSource dataSource)
{
    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex CollectionName();

    public async Task<IReadOnlyList<CollectionInfo>> ListAsync(CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("select collection, note, hidden, singleton from content_collections order by collection");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var list = new List<CollectionInfo>();
        while (await reader.ReadAsync(ct))
            list.Add(new CollectionInfo(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetBoolean(2), reader.GetBoolean(3)));
        return list;
    }

    public async Task<CollectionInfo> CreateAsync(string collection, string? note, CancellationToken ct)
    {
        if (!CollectionName().IsMatch(collection))
            throw DirectusException.InvalidPayload(
                "\"collection\" must start with a lower-case letter or _ and hold only a-z, 0-9 and _ (at most 63 characters)", "collection");
        await using var cmd = dataSource.CreateCommand("insert into content_collections (collection, note) values ($1, $2) on conflict do nothing");
        cmd.Parameters.Add(new NpgsqlParameter { Value = collection });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)note ?? DBNull.Value });
        if (await cmd.ExecuteNonQueryAsync(ct) == 0)
            throw DirectusException.InvalidPayload($"Collection \"{collection}\" already exists", "collection");
        return new CollectionInfo(collection, note, false, false);
    }
}
