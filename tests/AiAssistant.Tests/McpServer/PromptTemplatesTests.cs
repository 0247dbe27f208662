using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.Mcp;
using Xunit;

namespace AiAssistant.Tests.McpServer;

/// <summary>The prompts' <c>{{variable}}</c> placeholders: which names count, their descriptions, rendering, and a missing value.</summary>
public sealed class PromptTemplatesTests
{
    private static PromptTemplate Prompt(string json) => PromptTemplate.FromItem(JsonNode.Parse(json)!.AsObject())!;

    [Fact]
    public void Variables_come_from_the_system_prompt_and_every_message_once_in_order()
    {
        var prompt = Prompt("""
            {"name":"translate","system_prompt":"Translate into {{ language }}. Keep {{tone}}.",
             "messages":[{"role":"user","text":"{{text}} in {{language}}"},{"role":"assistant","text":"Tone: {{ tone }}"}]}
            """);
        Assert.Equal(["language", "tone", "text"], prompt.Variables().Select(v => v.Name));
    }

    [Fact]
    public void A_name_with_a_description_is_that_name_and_keeps_the_description()
    {
        var variables = PromptTemplates.Variables(["Write about {{ topic: what the article is about }} for {{audience}}.", "{{topic}} again"]);
        Assert.Equal([new PromptVariable("topic", "what the article is about"), new PromptVariable("audience", null)], variables);
        Assert.Equal("Write about cats for kids.",
            PromptTemplates.Render("Write about {{ topic: what the article is about }} for {{audience}}.", new Dictionary<string, string> { ["topic"] = "cats", ["audience"] = "kids" }));
    }

    [Theory]
    [InlineData("{{ 1abc }}")]
    [InlineData("{{a b}}")]
    [InlineData("{{}}")]
    [InlineData("{ {name} }")]
    [InlineData("{{na.me}}")]
    public void Braces_that_do_not_hold_a_name_are_no_variable_and_stay_as_text(string text)
    {
        Assert.Empty(PromptTemplates.Variables([text]));
        Assert.Equal(text, PromptTemplates.Render(text, new Dictionary<string, string>()));
    }

    [Theory]
    [InlineData("{{_x}}", "_x")]
    [InlineData("{{a-b_9}}", "a-b_9")]
    [InlineData("{{\n  Name\t}}", "Name")]
    public void Names_start_with_a_letter_or_underscore_and_go_on_with_letters_digits_dashes_underscores(string text, string name) =>
        Assert.Equal(name, Assert.Single(PromptTemplates.Variables([text])).Name);

    [Fact]
    public void Rendering_puts_the_system_prompt_first_as_an_assistant_message_then_the_messages()
    {
        var prompt = Prompt("""
            {"name":"p","description":"d","system_prompt":"You are {{role}}.",
             "messages":[{"role":"user","text":"Hello {{name}}, {{role}} here"},{"role":"assistant","text":"Hi"},{"role":"other","text":"x"},{"text":7}]}
            """);
        var messages = prompt.Render(new Dictionary<string, string> { ["role"] = "an editor", ["name"] = "Ada" });
        Assert.Equal(
            [new PromptMessage("assistant", "You are an editor."), new PromptMessage("user", "Hello Ada, an editor here"),
             new PromptMessage("assistant", "Hi"), new PromptMessage("user", "x")],
            messages);
    }

    [Fact]
    public void A_value_is_put_in_as_given_and_is_not_read_as_a_placeholder_again()
    {
        var prompt = Prompt("""{"name":"p","messages":[{"role":"user","text":"{{a}} and {{b}}"}]}""");
        var text = prompt.Render(new Dictionary<string, string> { ["a"] = "{{b}} $1 \\", ["b"] = "B" }).Single().Text;
        Assert.Equal("{{b}} $1 \\ and B", text);
    }

    [Fact]
    public void A_missing_value_names_every_missing_argument()
    {
        var prompt = Prompt("""{"name":"p","system_prompt":"{{a}}","messages":[{"role":"user","text":"{{b}} {{c}}"}]}""");
        var e = Assert.Throws<MissingPromptArgumentsException>(() => prompt.Render(new Dictionary<string, string> { ["b"] = "x" }));
        Assert.Equal(["a", "c"], e.Names);
        Assert.Equal("Missing required arguments: a, c", e.Message);
        Assert.Throws<MissingPromptArgumentsException>(() => prompt.Render(null));
    }

    [Fact]
    public void An_item_without_a_name_is_no_prompt_and_messages_stored_as_json_text_are_read()
    {
        Assert.Null(PromptTemplate.FromItem(JsonNode.Parse("""{"name":"","messages":[]}""")!.AsObject()));
        Assert.Null(PromptTemplate.FromItem(JsonNode.Parse("""{"description":"x"}""")!.AsObject()));
        var prompt = Prompt("""{"name":"p","messages":"[{\"role\":\"user\",\"text\":\"{{x}}\"}]"}""");
        Assert.Equal("x", Assert.Single(prompt.Variables()).Name);
        Assert.Empty(Prompt("""{"name":"p","messages":"not json"}""").Messages);
    }
}
