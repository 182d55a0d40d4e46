"""The default guides every programme sees: role cards for both sides, a first-meeting guide
and agenda templates. Managers edit them in the admin; a programme can add its own."""

from django.db import migrations

# (kind, role, topic_title, title, body); body is plain text: blank lines separate
# paragraphs and "- " starts a bullet.
DEFAULTS = [
    (
        "role_card",
        "reverse_mentor",
        "",
        "Your role as a reverse-mentor",
        """\
In reverse mentoring you are the one with something to teach. Your executive joined because \
there are things they cannot see from where they sit, and you can. You do not need to be an \
expert: your everyday experience is exactly what they are here for.

What a reverse-mentor does:

- Leads the sessions. You propose the times, open each conversation and keep an eye on the clock.
- Chooses topics together with your executive, from the road map or from what is on their mind.
- Shares lived experience: how you and people like you actually work, use tools, see the \
company and its customers. Stories and examples teach more than opinions.
- Asks questions. "What do you think is happening here?" or "What would you expect to see?" \
often teaches more than an answer.
- Keeps confidentiality. What is said in your sessions stays between the two of you unless \
you both agree otherwise.
- Says when it is not working. If sessions keep getting cancelled, or the conversation keeps \
turning into advice for you, say so to your executive or to the programme manager. That is \
part of the role, not a complaint.

It is fine to say "I don't know" and to come back with an answer next time. It is also fine \
to disagree with someone senior: that is why you were asked.""",
    ),
    (
        "role_card",
        "mentee",
        "",
        "Your role as the executive (mentee)",
        """\
In these sessions you are the learner. Your reverse-mentor leads; your job is to make it \
easy for them to teach you, and to do something with what you learn.

What a good mentee does:

- Listens more than talks. Aim for your reverse-mentor doing most of the talking.
- Comes prepared with questions: one or two things you are curious about, or puzzled by, \
since the last session.
- Protects the time. Treat sessions like a board meeting: cancel only when you truly must, \
and offer another time straight away.
- Acts on one thing each session. Pick one small action, try it before you next meet, and \
tell your reverse-mentor how it went.
- Does not advise unless asked. It is natural to slip into mentoring your mentor; notice it \
and hand the conversation back.
- Keeps confidentiality. What your reverse-mentor tells you is never used in their \
performance reviews or repeated with their name attached.

Remember the difference in seniority is real, even if you do not feel it. Thank them for \
candour, especially when it is uncomfortable to hear.""",
    ),
    (
        "first_meeting",
        "",
        "",
        "Your first meeting: a 45-minute plan",
        """\
The first meeting is about getting to know each other and agreeing how you will work. You \
do not need to learn anything yet. The reverse-mentor leads; this plan helps.

- 10 minutes, introductions: your roles, how long you have been here, one thing outside work.
- 10 minutes, why each of you joined: what the executive hopes to learn, and what the \
reverse-mentor hopes to get from it too.
- 10 minutes, the kickoff agreement: who schedules the sessions, how often you meet, in \
person or by video, how to cancel, and the confidentiality pledge. Agree it on your pair page \
so you both have the same version.
- 10 minutes, the first topic: look at the road map together and pick where to start. \
Choose something concrete the executive meets every week.
- 5 minutes, the next session: book it before you leave, with the first topic in the title.

Afterwards, each of you can note one thing you learned about the other. It is private unless \
you choose to share it.""",
    ),
    (
        "agenda",
        "",
        "",
        "Exploring a topic in 45 minutes",
        """\
A shape that works for almost any topic. The reverse-mentor leads and keeps time.

- 5 minutes, check in: how did last session's action go?
- 5 minutes, frame the topic: what does the executive already believe about it, and why?
- 20 minutes, show and tell: the reverse-mentor shares real examples from their own work \
and life. The executive asks questions rather than comments.
- 10 minutes, what is different from what you expected? Name one surprise each.
- 5 minutes, one action: the executive picks one small thing to try before you next meet, \
and you agree the next topic.""",
    ),
    (
        "agenda",
        "",
        "Digital tools and everyday habits",
        "Agenda: digital tools and everyday habits",
        """\
Goal: the executive sees how colleagues actually get work done, not how the process says it is done.

- 5 minutes, check in on last session's action.
- 15 minutes, a tour of a normal day: the reverse-mentor shares their screen or phone and \
walks through the tools they use, from first message to last.
- 10 minutes, shortcuts and workarounds: what people do when the official tool is too slow, \
and what that says about the tool.
- 10 minutes, try it: the executive does one real task the way the reverse-mentor would, \
with the reverse-mentor watching.
- 5 minutes, one action: for example, reply to the team in their channel instead of by e-mail \
for a week.""",
    ),
    (
        "agenda",
        "",
        "Social media and our brand",
        "Agenda: social media and our brand",
        """\
Goal: the executive sees the company as people outside it do, on the platforms they use.

- 5 minutes, check in on last session's action.
- 15 minutes, search together: look the company and its leaders up on two or three \
platforms the reverse-mentor uses. What comes up first?
- 10 minutes, what people say: posts by customers, applicants and staff. Which ones would \
the reverse-mentor's friends believe, and why?
- 10 minutes, the executive's own presence: what would the reverse-mentor change, keep or \
stop?
- 5 minutes, one action: for example, follow three accounts the reverse-mentor recommends \
and read them for two weeks.""",
    ),
    (
        "agenda",
        "",
        "Inclusion and belonging at work",
        "Agenda: inclusion and belonging at work",
        """\
Goal: the executive hears lived experience of the culture, told on the reverse-mentor's terms.

Before you start, agree what is off limits today. The reverse-mentor shares only what they \
are comfortable sharing, and can stop at any time.

- 5 minutes, check in on last session's action.
- 15 minutes, moments that matter: a time the reverse-mentor felt they belonged here, and a \
time they did not. The executive listens without fixing.
- 10 minutes, what others notice: what colleagues say about meetings, promotions or \
everyday remarks, without names.
- 10 minutes, the executive's part: which of these moments could they influence, directly or \
by example?
- 5 minutes, one action: something small and visible, for example who speaks first in their \
next team meeting.""",
    ),
    (
        "agenda",
        "",
        "Hybrid and flexible working",
        "Agenda: hybrid and flexible working",
        """\
Goal: the executive understands what flexibility means at a different career stage and in a \
different role.

- 5 minutes, check in on last session's action.
- 10 minutes, a real week: where and when the reverse-mentor works, and what decides it \
(commute, caring, team habits, rules).
- 15 minutes, what works and what does not: meetings with half the people in a room, being \
seen by managers, learning from colleagues when not in the office.
- 10 minutes, signals from the top: what the executive's own habits tell their teams, \
whether they mean it or not.
- 5 minutes, one action: for example, run one meeting next week remote-first, everyone on \
their own screen.""",
    ),
    (
        "agenda",
        "",
        "What younger customers expect",
        "Agenda: what younger customers expect",
        """\
Goal: the executive sees the company's service through a younger customer's eyes.

- 5 minutes, check in on last session's action.
- 15 minutes, a service the reverse-mentor loves and one they gave up on: what made the \
difference (speed, price, honesty, sustainability, how problems were handled)?
- 15 minutes, our turn: go through one of the company's own customer journeys together, on \
a phone, as a new customer would.
- 5 minutes, the gap: the one thing a younger customer would notice first.
- 5 minutes, one action: for example, ask the team that owns that journey what they know \
about it.""",
    ),
    (
        "agenda",
        "",
        "Generative AI in everyday work",
        "Agenda: generative AI in everyday work",
        """\
Goal: the executive sees how people really use AI tools at work, with the hopes and the \
worries.

- 5 minutes, check in on last session's action.
- 15 minutes, show me: the reverse-mentor shows two or three real tasks where they use (or \
would like to use) an AI tool, and one where they would not trust it.
- 10 minutes, worries: what colleagues fear about AI (jobs, mistakes, data, fairness) and \
what they wish leaders would say about it.
- 10 minutes, try it: the executive uses a tool allowed by company policy on one of their \
own tasks, with the reverse-mentor coaching.
- 5 minutes, one action: for example, ask their team which AI tools they already use, and \
listen to the answer.""",
    ),
]


def add_defaults(apps, schema_editor) -> None:
    Guide = apps.get_model("programmes", "Guide")
    Guide.objects.bulk_create(
        Guide(
            programme=None,
            kind=kind,
            role=role,
            topic_title=topic_title,
            title=title,
            body=body,
            position=position,
        )
        for position, (kind, role, topic_title, title, body) in enumerate(DEFAULTS)
    )


def remove_defaults(apps, schema_editor) -> None:
    Guide = apps.get_model("programmes", "Guide")
    Guide.objects.filter(programme=None, title__in=[d[3] for d in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("programmes", "0004_sessions_agreements_notes_guides"),
    ]

    operations = [
        migrations.RunPython(add_defaults, remove_defaults),
    ]
