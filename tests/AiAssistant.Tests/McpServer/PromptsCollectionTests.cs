using AiAssistant.Services.Tools.Mcp;
using AiAssistant.Tests.Content.Schema;
using AiAssistant.Tests.Infrastructure;
using Xunit;
using static AiAssistant.Tests.Content.Schema.SchemaDatabase;

namespace AiAssistant.Tests.McpServer;

/// <summary>The generated prompts collection against the real schema store, and what makes a collection unfit to be one.</summary>
[Collection(ServersCollection.Name)]
public sealed class PromptsCollectionTests(ServersFixture servers) : IAsyncLifetime
{
    private SchemaDatabase _db = null!;

    public async Task InitializeAsync() => _db = await SchemaDatabase.CreateAsync(servers, "prompts");

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task The_generated_collection_is_one_change_with_the_references_fields_and_passes_the_check()
    {
        var before = await _db.ScalarAsync<long>("select version from content_schema_version where id = 1");
        var created = await _db.Store.CreateCollectionAsync(PromptsCollection.Definition("my_prompts"), default);
        Assert.Equal(before + 1, await _db.ScalarAsync<long>("select version from content_schema_version where id = 1"));

        Assert.Equal("id", created.PrimaryKey);
        Assert.Equal(["id", "sort", "status", "name", "description", "system_prompt", "messages", "date_created", "user_created", "date_updated", "user_updated"],
            created.Fields.Values.OrderBy(f => f.Meta?.Sort).Select(f => f.Field));
        Assert.Equal("uuid", created.Field("id")!.Type);
        Assert.True(created.Field("name")!.Unique);
        Assert.False(created.Field("name")!.Nullable);
        Assert.True(created.Field("name")!.Meta!.Required);
        Assert.Equal("draft", created.Field("status")!.DefaultValue!.GetValue<string>());
        Assert.Equal(["cast-json"], created.Field("messages")!.Special);
        Assert.Equal(["user-created"], created.Field("user_created")!.Special);
        Assert.Null(PromptsCollection.Problems(await _db.Cache.GetAsync(default), "my_prompts"));

        // a row gets its uuid, status and stamps from the store
        await _db.ExecAsync("""insert into my_prompts (id, name) values (gen_random_uuid(), 'hello')""");
        Assert.Equal("draft", await _db.ScalarAsync<string>("select status from my_prompts where name = 'hello'"));
        var again = await Assert.ThrowsAsync<AiAssistant.ServiceDefaults.Errors.DirectusException>(() =>
            _db.Store.CreateCollectionAsync(PromptsCollection.Definition("my_prompts"), default));
        Assert.Equal("Invalid payload. Collection \"my_prompts\" already exists.", again.Message);
    }

    [Fact]
    public async Task A_missing_collection_a_folder_and_missing_or_mistyped_fields_are_named()
    {
        await _db.Store.CreateCollectionAsync(Body("""{"collection":"a_folder"}"""), default);
        await _db.Store.CreateCollectionAsync(Body("""
            {"collection":"half_prompts","schema":{},"fields":[{"field":"name","type":"integer"},{"field":"description","type":"text"},{"field":"system_prompt","type":"string"}]}
            """), default);
        var schema = await _db.Cache.GetAsync(default);
        Assert.Equal("Collection \"nope\" does not exist", PromptsCollection.Problems(schema, "nope"));
        Assert.Equal("Collection \"a_folder\" does not exist", PromptsCollection.Problems(schema, "a_folder"));
        Assert.Equal("Collection \"directus_files\" does not exist", PromptsCollection.Problems(schema, "directus_files"));
        Assert.Equal("Collection \"half_prompts\" is missing the prompt fields name (string, not integer), messages (json)",
            PromptsCollection.Problems(schema, "half_prompts"));
    }
}
