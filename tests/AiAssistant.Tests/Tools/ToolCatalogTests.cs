using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.AssistantTools;
using AiAssistant.Services.Tools.ToolRegistry;
using Xunit;

namespace AiAssistant.Tests.Tools;

/// <summary>The real tool catalog: which tools exist, that their data is whole, and how search ranks them.</summary>
public sealed class ToolCatalogTests
{
    private static readonly IReadOnlyList<ToolManifest> Catalog = ToolCatalog.Load();
    private static readonly ToolSearchIndex Index = new(Catalog);

    private static ToolManifest Tool(string name) => Catalog.Single(t => t.Name == name);

    [Fact]
    public void The_catalog_has_the_content_and_flow_tools()
    {
        Assert.Equal(["assets", "collections", "execute", "fields", "files", "flows", "folders", "items", "operations", "relations", "schema", "search",
            "system-prompt", "trigger-flow"], Catalog.Select(t => t.Name));
        Assert.Equal(["collections", "fields", "flows", "operations", "relations", "trigger-flow"], Catalog.Where(t => t.Admin).Select(t => t.Name));
        Assert.False(Tool("trigger-flow").ReadOnly); // never read-only: it always asks unless set to always
        Assert.Equal(["assets", "schema", "search", "system-prompt"], Catalog.Where(t => t.ReadOnly).Select(t => t.Name));
        foreach (var name in new[] { "items", "files", "folders", "collections", "fields", "relations", "flows", "operations" })
            Assert.Equal(["read"], Tool(name).ReadOnlyActions);
    }

    [Fact]
    public void Every_tool_has_a_guide_keywords_and_schemas_with_the_shared_definitions_inlined()
    {
        foreach (var tool in Catalog.Where(t => !t.Root))
        {
            Assert.True(tool.Instructions.Length > 200, $"{tool.Name} has no real instructions");
            Assert.NotEmpty(tool.Keywords);
            Assert.DoesNotContain("#/$defs/", tool.InputSchema.ToJsonString());
        }
        // the model's type of items shows the query's own parameters, taken from AssistantTools/shared.json
        var input = ToolRegistry.Details(Tool("items"))["inputType"]!.GetValue<string>();
        Assert.Contains("action: \"create\" | \"read\" | \"update\" | \"delete\";", input);
        Assert.Contains("fields?: string[]; // Fields to return", input);
        Assert.Contains("aggregate?: {", input);
    }

    [Theory]
    [InlineData("items", """{"action":"read","collection":"a","query":{"limit":-1,"fields":["*"]}}""", true)]
    [InlineData("items", """{"action":"read","collection":"a","query":{"limit":-2}}""", false)]
    [InlineData("items", """{"action":"update","collection":"a","data":[{"id":1}],"keys":[1]}""", true)]
    [InlineData("files", """{"action":"import","data":[{"url":"https://x/y.png","file":{"title":"t","folder":null}}]}""", true)]
    [InlineData("files", """{"action":"import","data":[]}""", false)]
    [InlineData("files", """{"action":"update","data":[{"title":"no id"}]}""", false)]
    [InlineData("assets", """{"id":"x"}""", true)]
    [InlineData("assets", """{}""", false)]
    [InlineData("system-prompt", """{}""", true)]
    [InlineData("system-prompt", """{"promptOverride":"x"}""", false)]
    [InlineData("collections", """{"action":"update","data":[{"collection":"a","meta":{"note":"n"},"schema":{}}]}""", false)]
    [InlineData("relations", """{"action":"update","collection":"a","field":"b","data":{"related_collection":"c"}}""", false)]
    [InlineData("relations", """{"action":"create","collection":"a","data":{"collection":"a","field":"b","related_collection":"c","meta":{"one_field":"x"},"schema":{"on_delete":"CASCADE"}}}""", true)]
    public void Strict_validation_follows_each_actions_schema(string tool, string input, bool valid) =>
        Assert.Equal(valid, ToolValidation.Validate(Tool(tool), JsonNode.Parse(input)!.AsObject()) is null);

    [Theory]
    [InlineData("create a new item in a collection", "items")]
    [InlineData("update the status of some articles", "items")]
    [InlineData("upload image from url", "files")]
    [InlineData("describe what is in this picture", "assets")]
    [InlineData("organize files into folders", "folders")]
    [InlineData("create a new collection for products", "collections")]
    [InlineData("add a field with dropdown choices", "fields")]
    [InlineData("many to many relationship through a junction", "relations")]
    [InlineData("what are your instructions", "system-prompt")]
    [InlineData("fields", "fields")]
    [InlineData("Files", "files")]
    public void Search_ranks_the_right_tool_first(string query, string first) =>
        Assert.Equal(first, Index.Search(query, _ => true)[0].Name);

    [Fact]
    public async Task System_prompt_answers_its_default_or_the_scopes_own()
    {
        var tool = new SystemPromptTool();
        var text = (await tool.HandleAsync(ToolCalls.For("{}")))!.GetValue<string>();
        Assert.StartsWith("You are the assistant of a headless CMS", text);
        Assert.Equal(SystemPromptTool.Default, text);
        var own = new ToolScope(ToolSurface.Mcp, null, ToolScope.NoApprovals, SystemPrompt: "Answer in French.");
        Assert.Equal("Answer in French.", (await tool.HandleAsync(ToolCalls.For("{}", scope: own)))!.GetValue<string>());
    }
}
