"""The sentences the offline story is built from, grouped by the job they do on a page.

Each pool maps a tone ("base" fits every tone) to templates. A template is used only when every
{slot} it names is known for the book, so a book without key characters never gets a sentence
about them. Slots: name, name_s (possessive), theme, friends (all key characters), friend (one),
object / the_object (a special object, first / later mention), excitement, colour, colour2.
Verbs after {friends} never inflect ("came", "cheered"), so one friend or three read the same.
Written for ages 3-7: short words, sounds to say aloud, no pronouns for the child.
"""

from __future__ import annotations

Pool = dict[str, tuple[str, ...]]

TITLE: Pool = {
    "base": (
        "This is the story of {name} and {theme}.",
        "Meet {name}. A wonderful adventure is about to begin!",
        "Once upon a time, there was a child named {name}.",
        "Get comfy, because this is {name_s} story.",
        "Turn the page and come along with {name}!",
        "Every great story starts somewhere. This one starts with {name}.",
        "This is a book about {name}, {friends} and one very special day.",
    ),
    "funny": (
        "Warning: this book contains {name}, lots of giggles and one very silly surprise.",
        "Ahem! Presenting the one and only {name}!",
    ),
    "gentle": (
        "Snuggle in close. This is a gentle story about {name}.",
        "Once upon a quiet time, there was {name}.",
    ),
    "adventurous": (
        "Buckle up! {name_s} big adventure starts now.",
        "Are you ready, explorer? {name} is!",
    ),
    "magical": (
        "Once upon a time, in a world full of magic, lived {name}.",
        "Shhh... can you feel the magic? {name_s} story is beginning.",
    ),
}

OPENING: Pool = {
    "base": (
        "Once upon a time, there was a child named {name} who loved {theme}.",
        "{name} woke up with a big idea, and it was all about {theme}.",
        "This is {name}. Today felt like a very special day.",
        "One bright morning, {name} had a feeling that something wonderful was going to happen.",
        "{name} loved {theme} more than almost anything in the whole wide world.",
        "It all began on an ordinary day, when {name} started thinking about {theme}.",
        "One starry evening, {name} had a feeling that something wonderful was going to happen.",
        "When the moon came up, {name} was still wide awake and thinking about {theme}.",
    ),
    "funny": (
        "{name} had a plan, and it was a VERY important plan about {theme}.",
        "One morning, {name} hopped out of bed with one sock on and a big idea.",
        "{name} was the silliest, giggliest fan of {theme} there ever was.",
        "It was nearly bedtime, but {name} had one more VERY important plan.",
    ),
    "gentle": (
        "Once upon a quiet morning, {name} stretched, yawned and smiled.",
        "{name} liked soft blankets, warm hugs and stories about {theme}.",
        "In a cosy home, {name} was dreaming sweet dreams of {theme}.",
        "One quiet evening, {name} snuggled up and thought about {theme}.",
    ),
    "adventurous": (
        "{name} was an explorer, always ready for an adventure.",
        "Today, {name} was going on a real adventure, the biggest one yet!",
        "{name} put on brave boots and set off in search of {theme}.",
    ),
    "magical": (
        "Once upon a time, {name} found a little bit of magic hidden in an ordinary day.",
        "{name} believed in magic, and today the magic believed in {name} too.",
        "Nobody knew it yet, but {name} was about to discover the magic of {theme}.",
    ),
}

COMPANIONS: Pool = {
    "base": (
        "And {friends} came along too, of course!",
        "{name} took {friends} along, because everything is better together.",
        "Right beside {name} stood {friends}, ready for anything.",
        "{friends} joined in, smiling from ear to ear.",
    ),
    "funny": ("{friends} tagged along too, pulling the funniest faces.",),
    "gentle": ("{friends} stayed close, warm and kind.",),
    "adventurous": ("{friends} joined the team. Together, they would be brave.",),
    "magical": ("{friends} joined in, and the magic grew a little bit stronger.",),
}

# Scenes describe the page's photo; the story picks the pool from the photo's traits.
SCENE_NIGHT_SKY: Pool = {
    "base": (
        "Up above, the night sky was full of twinkling stars.",
        "The sky was {colour} and velvety, sprinkled with sparkly stars.",
        "Stars twinkled everywhere, like tiny night lights far, far away.",
        "{name} looked up and counted the stars: one, two, three... too many to count!",
        "The night was quiet, and the stars were shining just for {name}.",
        "Hundreds of stars winked down, as if they were saying hello.",
    ),
}

SCENE_OUTDOOR_BRIGHT: Pool = {
    "base": (
        "Outside, the sun was shining and the whole world looked bright.",
        "The sky stretched up, up, up, wide and {colour}.",
        "A gentle breeze whooshed by, and everything sparkled in the sunshine.",
        "Outside, there were splashes of {colour} and {colour2} everywhere.",
        "The fresh air smelled of sunshine and big open skies.",
    ),
}

SCENE_OUTDOOR_DIM: Pool = {
    "base": (
        "The evening sky turned {colour}, and the first lights began to glow.",
        "As the day grew sleepy, the sky was painted {colour}.",
        "Lights twinkled in the dusk, like little stars that had come down to visit.",
        "Outside, the air was cool and the sky glowed {colour}.",
        "Long shadows stretched across the ground as evening came.",
    ),
}

SCENE_INDOOR_BRIGHT: Pool = {
    "base": (
        "Sunlight poured in and made everything glow.",
        "Inside, everything was bright and cheerful, with {colour} all around.",
        "The room was full of light, and {colour} and {colour2} shone everywhere.",
        "It was a bright, happy place, just right for a story.",
    ),
}

SCENE_INDOOR_SOFT: Pool = {
    "base": (
        "Inside, it was warm and cosy, with splashes of {colour} all around.",
        "It was a cosy, {colour} kind of place.",
        "Soft light filled the room, painting everything {colour} and {colour2}.",
        "Inside, everything felt snug and safe.",
    ),
}

SCENE_INDOOR_DARK: Pool = {
    "base": (
        "The room was dim and quiet, just right for a secret.",
        "A soft little light glowed in the shadows.",
        "It was dark and hushed, and everything was {colour}.",
    ),
}

# What the photo shows, when the photo reading can name it: used instead of the setting's lines.
SCENE_SUBJECT: dict[str, Pool] = {
    "animal": {
        "base": (
            "A furry friend came to say hello, soft as a cushion.",
            "Look who was there: a furry friend with bright, curious eyes!",
            "{name} met a furry new friend, who wiggled with delight.",
            "A furry friend sat very still, watching {name} with big round eyes.",
        ),
    },
    "food": {
        "base": (
            "Mmm! Something yummy was waiting on the table.",
            "It was time for a tasty treat, and it smelled delicious.",
            "A yummy treat was ready, just right for a hungry adventurer.",
            "{name} sat down for a tasty treat. Yum, yum!",
        ),
    },
    "person": {
        "base": (
            "{name_s} face lit up with a great big grin.",
            "What a grin! {name} was ready for anything.",
            "A friendly face smiled at {name}, as if to say: you can do it!",
        ),
    },
}

# Extra scene lines that fit a photo's mood; mixed into the setting's pool.
SCENE_WARM = ("Everything glowed {colour}, warm as a hug.", "It felt warm and golden, like a cosy blanket.")
SCENE_COOL = ("Everything looked cool and fresh, in shades of {colour}.",)
SCENE_BUSY = (
    "There was so much to see, everywhere {name} looked!",
    "Wherever {name} looked, there was something new to spot.",
)
SCENE_CALM = ("Everything was calm, quiet and still.", "It was peaceful, hushed and still.")
SCENE_VIVID = ("The colours were bold and bright: {colour} and {colour2}!",)
SCENE_MUTED = ("The colours were soft and gentle, like a sleepy dream.",)

EXPLORE: Pool = {
    "base": (
        "{name} looked around and smiled. There was so much to discover!",
        "Step by step, {name} went a little further.",
        "{name} spotted something interesting and went closer for a better look.",
        '"Wow," whispered {name}. "Look at that!"',
        "{name} thought about {theme} and had a wonderful idea.",
        "Together with {friends}, {name} explored every corner.",
        '{friend} pointed and said, "Look over there, {name}!"',
        "{name} asked a big question: what would happen next?",
    ),
    "funny": (
        "{name} tried to whistle, but only a raspberry came out. Pffft!",
        "Boing, boing! {name} bounced along, giggling all the way.",
        "{name} made a funny face, and {friend} laughed so hard it came out as a snort.",
        "Oops! {name} tripped over a shoelace, but landed with a giggle.",
    ),
    "gentle": (
        "{name} walked slowly, looking at every little thing.",
        "Softly, softly, {name} tiptoed on.",
        "{name} took a deep breath and felt happy inside.",
    ),
    "adventurous": (
        "{name} marched on bravely. Nothing could stop this explorer!",
        "Over, under and all the way through, {name} kept going.",
        '"Onward!" called {name}, and off they went.',
    ),
    "magical": (
        "Little sparkles danced in the air wherever {name} walked.",
        "{name} wished a tiny wish, and something began to shimmer.",
    ),
}

OBJECT: Pool = {
    "base": (
        "{name} held {object} tight, just in case.",
        "{name} never went anywhere without {object}.",
        "Luckily, {name} had brought {object}.",
        "{name} checked on {object}. Still there? Yes!",
    ),
    "funny": ("{name} balanced {object} on one finger. Wobble, wobble!",),
    "gentle": ("{name} gave {object} a gentle little squeeze.",),
    "adventurous": ("With {object} close by, {name} felt ready for anything.",),
    "magical": ("{name} looked at {object}, and it seemed to glow with a soft, magic light.",),
}

ANTICIPATE: Pool = {
    "base": (
        "Something exciting was waiting just around the corner.",
        "{name} had a tingly feeling. Something big was about to happen!",
        "Then {name} heard a sound. What could it be?",
        "{name} held very still and listened. Was that... a surprise?",
    ),
    "funny": ("{name_s} tummy did a little flip-flop. Something fun was coming!",),
    "gentle": ("Quietly, something lovely was on its way.",),
    "adventurous": ("{name} stood tall. The biggest moment of the adventure was close!",),
    "magical": ("The air began to sparkle. The magic was getting closer!",),
}

CLIMAX: Pool = {
    "base": (
        "And then, all of a sudden, it happened: {excitement}!",
        "Suddenly, there it was: {excitement}!",
        "Then came the most exciting moment of all: {excitement}!",
        "{name} could hardly believe it. It was {excitement}!",
    ),
}

CLIMAX_WITHOUT_EXCITEMENT: Pool = {
    "base": (
        "And then, all of a sudden, something amazing happened!",
        "Then came the biggest surprise of the whole day!",
        "Suddenly, everything was even more wonderful than {name} had imagined!",
    ),
}

REACTION: Pool = {
    "base": (
        '"Wow!" gasped {name}. "This is amazing!"',
        "{name} jumped up and down with joy.",
        "{friends} cheered, and {name} cheered even louder.",
    ),
    "funny": (
        "{name} laughed and laughed until the giggles turned into hiccups.",
        "It was so exciting that {name} did a little dance. Wiggle, wiggle, hooray!",
        '"Best. Day. EVER!" shouted {name}.',
    ),
    "gentle": (
        "{name_s} heart felt warm and full, like a great big hug.",
        "{name} smiled the biggest, softest smile.",
    ),
    "adventurous": (
        "{name} stood tall, as brave as a lion.",
        '"We did it!" cheered {name}, and {friends} cheered too.',
    ),
    "magical": (
        "Sparkles swirled all around, and {name} laughed with wonder.",
        "It was a wish come true, only better, because it was real.",
    ),
}

AFTERGLOW: Pool = {
    "base": (
        "{name} was still smiling about the big surprise.",
        "After all that excitement, it was time for a little rest.",
        "{name} and {friends} talked about it again and again.",
        "Slowly, the day began to wind down.",
    ),
    "funny": ("{name} told the story again, and it got sillier every time.",),
    "gentle": ("Everything grew quiet and peaceful again.",),
    "adventurous": ("The explorer headed for home, full of stories to tell.",),
    "magical": ("The sparkles faded slowly, but the magic stayed in {name_s} heart.",),
}

ENDING: Pool = {
    "base": (
        "At the end of the day, {name} came home happy and tired.",
        "What a day it had been! {name} would never, ever forget it.",
        "{name} smiled. Today had been the best day ever.",
        "And {name} knew there would be many more adventures to come.",
        "{name} gave {friends} a big goodnight hug.",
        "{name} tucked {the_object} in, right beside the pillow.",
        "{name} fell asleep dreaming of {theme}.",
    ),
    "funny": (
        "{name} yawned a yawn so big it nearly swallowed the moon.",
        "And that was the end of the silliest, giggliest day ever. Probably!",
    ),
    "gentle": (
        "Snuggled up warm, {name} drifted off to sleep with a smile.",
        "Goodnight, {name}. Sweet dreams.",
    ),
    "adventurous": (
        "Tomorrow there would be a new adventure, and {name} would be ready.",
        "{name} the explorer had done it, and felt very proud.",
    ),
    "magical": (
        "And if you listen closely, you can still hear the magic whispering {name_s} name.",
        "The magic settled down for the night, and so did {name}.",
    ),
}
